import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import type { Store } from "../../src/store/store.ts";
import type { Step } from "../support/scripted-connector.ts";

const ROOT = resolve(import.meta.dirname, "../..");
/** Node 24 from the `node` dev dependency (it strips the types of the .ts entry itself). */
const NODE = resolve(ROOT, "node_modules/.bin/node");
const ENTRY = resolve(ROOT, "test/support/replica-main.ts");

/** A fixed keyring for every replica of a test, so they open each other's blobs. */
export function replicaKeyring(): string {
  return `replica:${randomBytes(32).toString("base64")}`;
}

export interface ReplicaOptions {
  store: { kind: "postgres"; url: string; schema: string } | { kind: "sqlite"; dataDir: string };
  sealingKeys: string;
  intentTtlMs?: number;
  step?: Step;
  /** Further settings (ACCOUNT_CHECK_*, EVENTS_*, WEBHOOK_*, PROVIDER_ALLOWED_NETWORKS). */
  env?: Record<string, string>;
}

export interface Replica {
  pid: number;
  grpcAddress: string;
  httpUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code / signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts test/support/replica-main.ts and waits for the ports it prints. */
export async function spawnReplica(options: ReplicaOptions): Promise<Replica> {
  const storeEnv =
    options.store.kind === "postgres" ? { DATABASE_URL: options.store.url, PG_SCHEMA: options.store.schema } : { DATA_DIR: options.store.dataDir };
  const child = spawn(NODE, ["--disable-warning=ExperimentalWarning", ENTRY], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...storeEnv,
      SEALING_KEYS: options.sealingKeys,
      INTENT_TTL_MS: String(options.intentTtlMs ?? 60_000),
      // Bursts of calls at a replica queue for its 10 pooled connections; on a loaded machine
      // the queue moves slowly, and the production 2 s would turn waiting into service_unavailable.
      DATABASE_CONNECT_TIMEOUT_MS: "30000",
      CONNECTOR_STEP: JSON.stringify(options.step ?? {}),
      LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<{ grpcPort: number; httpPort: number; pid: number }>((resolveReady, reject) => {
    lines.once("line", (line) => resolveReady(JSON.parse(line) as { grpcPort: number; httpPort: number; pid: number }));
    void exited.then((how) => reject(new Error(`replica exited before listening (${JSON.stringify(how)}): ${stderr}`)));
    // A fresh Node process loading the whole service: seconds on a loaded machine, more with two starting at once.
    setTimeout(() => reject(new Error(`replica did not start within 45 s: ${stderr}`)), 45_000).unref();
  });
  const ports = await ready.catch((e: unknown) => {
    child.kill("SIGKILL");
    throw e;
  });
  return {
    pid: ports.pid,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    child,
    exited,
    stderr: () => stderr,
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Workspaces alpha and beta with one API key each, written by the test before replicas start. */
export async function seedWorkspaces(store: Store): Promise<{ apiKey: string; otherApiKey: string; workspaceId: string }> {
  const alpha = await createWorkspace(store, "alpha");
  await createWorkspace(store, "beta");
  const apiKey = (await createApiKey(store, "alpha", "test")).token;
  const otherApiKey = (await createApiKey(store, "beta", "test")).token;
  return { apiKey, otherApiKey, workspaceId: alpha.id };
}
