import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PG_URL } from "../../support/pg.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** One replica of the service: the real entry point (src/main.ts) in its own process. */
export interface Replica {
  name: string;
  grpcAddress: string;
  httpUrl: string;
  /** Every line it wrote (its JSON log lines), for secret checks. */
  lines: string[];
  process: ChildProcess;
  /** SIGKILL: the replica is gone, as after a crash or a lost machine. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the drain to finish. */
  stop(): Promise<void>;
}

/** The database URL that puts `schema` first on every connection's search path. */
export function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/**
 * Starts `src/main.ts` on ports 0 against PostgreSQL (`schema`, which must exist and be
 * migrated), with the environment a deployment would give it.
 */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), `ppa-replica-${name}-`));
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", GRPC_PORT: "0", HTTP_PORT: "0", DATA_DIR: dataDir, LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let buffer = "";
  const ports = new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.includes("serving gRPC and Connect")) {
          const parsed = JSON.parse(line) as { grpcPort: number; httpPort: number };
          resolve({ grpcPort: parsed.grpcPort, httpPort: parsed.httpPort });
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`replica ${name} exited (${code}) before serving:\n${lines.join("\n")}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const { grpcPort, httpPort } = await ports.finally(() => clearTimeout(timeout));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  return {
    name,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    lines,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
      cleanup();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      cleanup();
    },
  };
}
