import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatewayListen, schema } from "../../src/config.ts";
import { settingsOf } from "../../src/config/tree.ts";

/** The real service as a subprocess: `node src/main.ts` (and the CLI) with the pinned Node. */

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The Node the project pins (the `node` dev dependency), never the system's. */
export const NODE_BIN = join(REPO_ROOT, "node_modules/.bin/node");

/** A port nobody listens on right now: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "ppa-proc-"));
}

/** The environment a subprocess gets: ours, less anything that would point it elsewhere. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...settingsOf({ schema, gatewayListen }).map((s) => s.env), "NODE_OPTIONS", "VITEST", "VITEST_POOL_ID", "VITEST_WORKER_ID"]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  dataDir: string;
  grpcAddress: string;
  httpUrl: string;
  /** Raw stdout lines (pino JSON). */
  stdout: string[];
  stderr: string[];
  /** Parsed log lines (stdout lines that are JSON). */
  logs(): LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends SIGKILL if still running (cleanup only). */
  kill(): void;
}

export interface StartOptions {
  /** What to run instead of `node src/main.ts`, e.g. the README's `npm start`. */
  command?: [string, ...string[]];
  dataDir?: string;
  env?: Record<string, string>;
  /** How long to wait for "serving gRPC and Connect". */
  readyTimeoutMs?: number;
}

/** Spawns `node src/main.ts` (or `options.command`) on free ports and waits until it logs that it serves. */
export async function startServiceProcess(options: StartOptions = {}): Promise<ServiceProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const [file, ...args] = options.command ?? [NODE_BIN, "--disable-warning=ExperimentalWarning", "src/main.ts"];
  const child = spawn(file, args, {
    cwd: REPO_ROOT,
    env: childEnv({ DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort), HOST: "127.0.0.1", LOG_LEVEL: "info", ...options.env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => {
    let rest = "";
    return (chunk: Buffer) => {
      const text = rest + chunk.toString("utf8");
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      into.push(...lines.filter(Boolean));
      for (const w of waiters) w();
    };
  };
  child.stdout!.on("data", collect(stdout));
  child.stderr!.on("data", collect(stderr));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const logs = () =>
    stdout.flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs().find(predicate);
        if (found) return done(() => resolve(found));
        if (hasExited) done(() => reject(new Error(`process exited before the expected log line\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no such log line within ${timeoutMs} ms\nstdout:\n${stdout.join("\n")}\nstderr:\n${stderr.join("\n")}`))), timeoutMs);
      const done = (finish: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        finish();
      };
      waiters.add(check);
      void exited.then(check);
      check();
    });

  const service: ServiceProcess = {
    child,
    dataDir,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    stdout,
    stderr,
    logs,
    exited,
    waitForLog,
    kill() {
      if (!hasExited) child.kill("SIGKILL");
    },
  };
  try {
    await waitForLog((l) => l.msg === "serving gRPC and Connect", options.readyTimeoutMs ?? 15_000);
  } catch (e) {
    service.kill();
    throw e;
  }
  return service;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node src/cli.ts <args>` (what `npm run -s cli -- <args>` runs) against a data directory. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runToExit([NODE_BIN, "--disable-warning=ExperimentalWarning", "src/cli.ts", ...args], env);
}

/** Runs the server, `node src/main.ts <args>`, until it exits by itself (--help, a refused setting). */
export function runMain(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runToExit([NODE_BIN, "--disable-warning=ExperimentalWarning", "src/main.ts", ...args], env);
}

/** Runs a command in the repository with the test's environment (less what would point it elsewhere) until it exits. */
export function runToExit([file, ...args]: [string, ...string[]], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: REPO_ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
