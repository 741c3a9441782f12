import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Stats } from "../servers/common.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface BenchServer<Ready> {
  ready: Ready;
  pid: number;
  command: string;
  /** One control command (see servers/common.ts), its one-line JSON answer. */
  send<T = unknown>(command: "reset" | "stats"): Promise<T>;
  /** Stops the server; its final stats. */
  stop(): Promise<Stats>;
}

/**
 * Spawns `bench/servers/<entry>.ts` under `taskset -c <cpu>` with this same node (Node 24),
 * and waits for its first line (ports etc.). Its stderr goes to ours.
 */
export async function startServer<Ready = Record<string, unknown>>(entry: string, args: string[], options: { cpu: number; nodeFlags?: string[]; timeoutMs?: number }): Promise<BenchServer<Ready>> {
  const argv = ["-c", String(options.cpu), process.execPath, "--disable-warning=ExperimentalWarning", ...(options.nodeFlags ?? []), `bench/servers/${entry}.ts`, ...args];
  const child: ChildProcessWithoutNullStreams = spawn("taskset", argv, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  child.stderr.on("data", (c: Buffer) => process.stderr.write(`[${entry}] ${c.toString()}`));
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  const queued: string[] = [];
  let exited = false;
  lines.on("line", (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else queued.push(line);
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const nextLine = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const queuedLine = queued.shift();
      if (queuedLine !== undefined) return resolve(queuedLine);
      const timer = setTimeout(() => reject(new Error(`${entry}: no answer within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited with ${code} before answering`));
      });
    });

  const ready = JSON.parse(await nextLine(options.timeoutMs ?? 60_000)) as Ready;
  return {
    ready,
    pid: child.pid!,
    command: `taskset ${argv.join(" ")}`,
    async send<T>(command: string) {
      child.stdin.write(`${command}\n`);
      return JSON.parse(await nextLine(60_000)) as T;
    },
    async stop() {
      if (exited) throw new Error(`${entry} had already exited`);
      child.stdin.write("exit\n");
      const stats = JSON.parse(await nextLine(30_000)) as Stats;
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(killer);
      return stats;
    },
  };
}
