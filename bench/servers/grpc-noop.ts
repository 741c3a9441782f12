/**
 * Baseline: a no-op unary handler on bare @grpc/grpc-js, on the service's own RPC paths
 * (AccountService and CredentialService).
 * Each method decodes the request with the generated schema and answers a fixed message
 * read from `--responses DIR/<Method>.bin` (bytes the real service answered, captured by
 * run.ts), encoded again per call: same request bytes, same response bytes as the service,
 * and the least work any grpc-js + protobuf-es handler does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { countGrpcStatuses, option, serveControl } from "./common.ts";

countGrpcStatuses();
const dir = option("responses")!;

const server = new grpc.Server();
type Message = MessageShape<DescMessage>;
for (const service of [AccountService, CredentialService]) {
  const definition: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    let file: Buffer;
    try {
      file = readFileSync(join(dir, `${method.name}.bin`));
    } catch {
      continue; // no captured answer for this method: not served
    }
    const input: DescMessage = method.input;
    const output: DescMessage = method.output;
    const response = fromBinary(output, file);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(output, b),
      originalName: method.name,
    };
    handlers[method.localName] = ((_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, response)) as grpc.UntypedHandleCall;
  }
  server.addService(definition, handlers);
}
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);

serveControl({ kind: "grpc-noop", grpcPort }, { quiesce: () => new Promise((resolve) => server.tryShutdown(() => resolve())) });
