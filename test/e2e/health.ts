import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

/** grpc.health.v1 through a plain grpc-js client (no API key). */

type HealthClient = grpc.Client & {
  Check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): HealthClient {
  const def = loadSync(protoPath, { keepCase: false, defaults: true, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

/** The status, or the gRPC error code when the call failed (e.g. 14 UNAVAILABLE: nobody listening). */
export function healthCheck(address: string, service = ""): Promise<string | number> {
  const client = healthClient(address);
  return new Promise((resolve) => {
    client.Check({ service }, (err, res) => {
      client.close();
      resolve(err ? err.code : res.status);
    });
  });
}

export interface HealthWatch {
  statuses: string[];
  /** Resolves with the stream's final gRPC code once it is over (0: the server ended it). */
  ended: Promise<number>;
  /** Resolves when `status` has been seen. */
  seen(status: string, timeoutMs?: number): Promise<void>;
  cancel(): void;
}

/** Opens a Watch stream: its statuses arrive as the server changes them. */
export function watchHealth(address: string, service = ""): HealthWatch {
  const client = healthClient(address);
  const call = client.Watch({ service });
  const statuses: string[] = [];
  const listeners = new Set<() => void>();
  call.on("data", (r: { status: string }) => {
    statuses.push(r.status);
    for (const l of listeners) l();
  });
  call.on("error", () => undefined);
  const ended = new Promise<number>((resolve) =>
    call.on("status", (s: grpc.StatusObject) => {
      client.close();
      resolve(s.code);
    }),
  );
  return {
    statuses,
    ended,
    seen(status, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!statuses.includes(status)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`health never went ${status} (saw ${statuses.join(", ") || "nothing"})`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    cancel() {
      call.cancel();
      client.close();
    },
  };
}
