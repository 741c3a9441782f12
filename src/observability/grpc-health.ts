import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import type { GrpcHealthService } from "../transport/grpc.ts";
import type { ServiceHealth } from "./health.ts";

type Status = "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";
interface HealthRequest {
  service: string;
}
interface HealthResponse {
  status: Status;
}

/**
 * grpc.health.v1.Health over ServiceHealth, for the whole server ("") and each service it
 * serves: Check, Watch and List. A Watch gets every change, and ends as soon as the server
 * drains (NOT_SERVING first), so no watch holds a drain open: clients watch another replica.
 */
export function createGrpcHealth(health: ServiceHealth, serviceNames: readonly string[]): GrpcHealthService {
  const names = new Set(["", ...serviceNames]);
  const status = (): Status => (health.serving ? "SERVING" : "NOT_SERVING");
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
          call.write({ status: names.has(call.request.service) ? status() : "SERVICE_UNKNOWN" });
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
