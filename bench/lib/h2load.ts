import { spawn, spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

export interface H2loadRun {
  url: string;
  /** Request body file (h2load -d). */
  body: string;
  headers: Record<string, string>;
  clients: number;
  streams: number;
  /** Timing-based run: main duration and warm-up, seconds. */
  durationS?: number;
  warmupS?: number;
  /** Count-based run (when no duration): total requests. */
  requests?: number;
  /** CPU for `taskset -c`. */
  cpu: number;
  logFile: string;
}

export interface H2loadResult {
  command: string;
  /** Harness clock around the h2load process. */
  wallS: number;
  /** h2load's own "finished in" (the measured part). */
  finishedS: number;
  rps: number;
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  /** From the per-request log (main duration only): latencies in ms. */
  latency: { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number };
  /** Per-request log rows by HTTP status (0: no status, e.g. cut off). */
  loggedStatus: Record<string, number>;
}

/** Installs h2load (Debian nghttp2-client) when it is missing; needs root. */
export function ensureH2load(): void {
  if (spawnSync("h2load", ["--version"]).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error("h2load is missing: apt-get install -y nghttp2-client (as root)");
  console.error("installing h2load (nghttp2-client) ...");
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "nghttp2-client"]]) {
    const r = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed`);
  }
}

export function h2loadArgs(run: H2loadRun): string[] {
  const args = ["-c", String(run.clients), "-m", String(run.streams), "-d", run.body, "--log-file", run.logFile];
  if (run.durationS !== undefined) args.push("-D", String(run.durationS), "--warm-up-time", String(run.warmupS ?? 0));
  else args.push("-n", String(run.requests));
  for (const [name, value] of Object.entries(run.headers)) args.push("-H", `${name}: ${value}`);
  args.push(run.url);
  return args;
}

export async function runH2load(run: H2loadRun): Promise<H2loadResult> {
  rmSync(run.logFile, { force: true });
  const args = ["-c", String(run.cpu), "h2load", ...h2loadArgs(run)];
  const started = performance.now();
  const child = spawn("taskset", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wallS = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`h2load exited with ${code}:\n${out}`);
  return { command: `taskset ${args.map(quote).join(" ")}`, wallS, ...parseOutput(out), ...readLog(run.logFile) };
}

function quote(arg: string): string {
  return /^[\w./:=,@+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function parseOutput(out: string): Pick<H2loadResult, "finishedS" | "rps" | "requests" | "status"> {
  const finished = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !req || !status) throw new Error(`could not read h2load's output:\n${out}`);
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  return {
    finishedS: Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1),
    rps: Number(finished[3]),
    requests: { total: n(req, 1), started: n(req, 2), done: n(req, 3), succeeded: n(req, 4), failed: n(req, 5), errored: n(req, 6), timeout: n(req, 7) },
    status: { "2xx": n(status, 1), "3xx": n(status, 2), "4xx": n(status, 3), "5xx": n(status, 4) },
  };
}

/** h2load --log-file: start µs since epoch, HTTP status, µs until the end of the response. */
function readLog(path: string): Pick<H2loadResult, "latency" | "loggedStatus"> {
  const latencies: number[] = [];
  const loggedStatus: Record<string, number> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const [, status, micros] = line.split("\t");
    if (micros === undefined) continue;
    loggedStatus[status!] = (loggedStatus[status!] ?? 0) + 1;
    // Status 0: a request in flight when the measured window opened (its response headers
    // came during the warm-up), logged with the window's start as its start: not a latency.
    if (status !== "0") latencies.push(Number(micros) / 1000);
  }
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => (sorted.length === 0 ? NaN : round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!));
  return { latency: { count: sorted.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: at(100) }, loggedStatus };
}

const round = (n: number) => Math.round(n * 100) / 100;
