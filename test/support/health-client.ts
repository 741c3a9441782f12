import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";

interface HealthStub extends grpc.Client {
  Check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

function healthClient(address: string): HealthStub {
  const def = loadSync(healthProtoPath, { keepCase: false, defaults: true, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure()) as unknown as HealthStub;
}

/** grpc.health.v1.Health/Check: the status, or the error's code. */
export function healthCheck(address: string, service = ""): Promise<string> {
  const client = healthClient(address);
  return new Promise((resolve) => {
    client.Check({ service }, (err, res) => {
      client.close();
      resolve(err ? `error ${err.code}` : res.status);
    });
  });
}

export interface HealthWatch {
  /** Every status received, in order. */
  readonly statuses: string[];
  /** Resolves with the stream's final code once the server ends it (0: ended normally). */
  readonly ended: Promise<number>;
  cancel(): void;
}

/** grpc.health.v1.Health/Watch, kept open. */
export function healthWatch(address: string, service = ""): HealthWatch {
  const client = healthClient(address);
  const stream = client.Watch({ service });
  const statuses: string[] = [];
  stream.on("data", (m: { status: string }) => statuses.push(m.status));
  const ended = new Promise<number>((resolve) => {
    stream.on("status", (s: grpc.StatusObject) => {
      client.close();
      resolve(s.code);
    });
  });
  stream.on("error", () => {});
  return { statuses, ended, cancel: () => stream.cancel() };
}
