import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/health/v1/health_pb.js";
import type { GrpcHealthService } from "../transport/grpc.ts";
import type { ServiceHealth } from "./health.ts";

interface HealthRequest {
  service: string;
}
interface HealthResponse {
  status: Status;
}

/**
 * The Health service's grpc-js definition, from the generated descriptors. Not grpc-health-check's:
 * importing it parses health.proto through protobufjs, about a tenth of the start-up.
 */
const healthService: grpc.ServiceDefinition = Object.fromEntries(Health.methods.map((method) => [method.localName, definitionOf(method)]));

function definitionOf(method: DescMethod): grpc.MethodDefinition<unknown, unknown> {
  const encode = (schema: DescMessage) => (message: unknown) => Buffer.from(toBinary(schema, create(schema, message as MessageInitShape<DescMessage>)));
  const decode = (schema: DescMessage) => (bytes: Buffer) => fromBinary(schema, bytes);
  return {
    path: `/${Health.typeName}/${method.name}`,
    requestStream: false,
    responseStream: method.methodKind === "server_streaming",
    requestSerialize: encode(method.input),
    requestDeserialize: decode(method.input),
    responseSerialize: encode(method.output),
    responseDeserialize: decode(method.output),
    originalName: method.localName,
  };
}

/**
 * grpc.health.v1.Health over ServiceHealth, for the whole server ("") and each service it
 * serves: Check, Watch and List. A Watch gets every change, and ends as soon as the server
 * drains (NOT_SERVING first), so no watch holds a drain open: clients watch another replica.
 */
export function createGrpcHealth(health: ServiceHealth, serviceNames: readonly string[]): GrpcHealthService {
  const names = new Set(["", ...serviceNames]);
  const status = (): Status => (health.serving ? Status.SERVING : Status.NOT_SERVING);
  const watches = new Set<grpc.ServerWritableStream<HealthRequest, HealthResponse>>();
  let last = status();

  health.onChange(() => {
    const now = status();
    if (now !== last) {
      last = now;
      for (const watch of watches) if (names.has(watch.request.service)) watch.write({ status: now });
    }
    if (!health.draining) return;
    for (const watch of watches) watch.end();
    watches.clear();
  });

  return {
    addToServer(server) {
      server.addService(healthService, {
        check(call: grpc.ServerUnaryCall<HealthRequest, HealthResponse>, callback: grpc.sendUnaryData<HealthResponse>) {
          if (names.has(call.request.service)) callback(null, { status: status() });
          else callback({ code: grpc.status.NOT_FOUND, details: `Health status unknown for service ${call.request.service}` });
        },
        watch(call: grpc.ServerWritableStream<HealthRequest, HealthResponse>) {
          // As the protocol says: an unknown service is SERVICE_UNKNOWN, and the watch stays open.
          call.write({ status: names.has(call.request.service) ? status() : Status.SERVICE_UNKNOWN });
          if (health.draining) {
            call.end();
            return;
          }
          watches.add(call);
          call.once("cancelled", () => watches.delete(call));
        },
        list(_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ statuses: Record<string, HealthResponse> }>) {
          callback(null, { statuses: Object.fromEntries([...names].map((name) => [name, { status: status() }])) });
        },
      });
    },
  };
}
