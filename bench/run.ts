/**
 * `npm run bench`: every scenario in one run, each against its baseline measured in the same
 * run; writes bench/out/results.json and bench/out/results.md. See bench/README.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { ensureH2load, runH2load, type H2loadResult } from "./lib/h2load.ts";
import { grpcUnary, healthServing } from "./lib/h2.ts";
import { connectRequest, credentialsRequest, envelope, getRequest, isAccountCreated, listRequest } from "./lib/messages.ts";
import { ROOT, startServer, type BenchServer } from "./lib/server-proc.ts";
import type { Stats } from "./servers/common.ts";

// ---------------------------------------------------------------------------------------------
// Settings (environment overrides, see README)

const env = process.env;
const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const settings = {
  durationS: num("BENCH_DURATION_S", 8),
  warmupS: num("BENCH_WARMUP_S", 2),
  clients: num("BENCH_CLIENTS", 8),
  streams: num("BENCH_STREAMS", 16),
  inFlight: num("BENCH_IN_FLIGHT", 5_000),
  slowConnectorMs: num("BENCH_SLOW_CONNECTOR_MS", 2_000),
  /** What the start-up scenario runs (relative to the repository), e.g. a compiled build's main.js. */
  main: env.BENCH_MAIN ?? "src/main.ts",
  startupRuns: num("BENCH_STARTUP_RUNS", 5),
  idleWaitMs: num("BENCH_IDLE_WAIT_MS", 3_000),
  seed: num("BENCH_SEED_ACCOUNTS", 200),
  databaseUrl: env.BENCH_DATABASE_URL ?? env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(",").map((s) => s.trim())) : undefined,
  /** Scenario id whose server runs under --cpu-prof (profiles in bench/out/profiles). */
  cpuProf: env.BENCH_CPU_PROF,
  serverCpu: 0,
  loadCpu: 1,
};

const OUT = join(ROOT, "bench/out");
const TMP = join(OUT, "tmp");
const PROFILES = join(OUT, "profiles");
const SERVICE = "postpress.accounts.v1.AccountService";
/** Each benchmarked method's RPC path ("/<package.Service>/<Method>"). */
const rpcPath = (method: LoadSpec["method"]) => `/${method === "GetCredentials" ? "postpress.accounts.v1.CredentialService" : SERVICE}/${method}`;

// ---------------------------------------------------------------------------------------------
// Result shapes

interface Check {
  ok: boolean;
  notes: string[];
}

interface LoadResult {
  id: string;
  title: string;
  role: "scenario" | "baseline";
  server: string;
  protocol: "grpc" | "connect";
  method: string;
  store?: string;
  baseline?: string;
  /** Minimum ratio to the baseline's requests/s, when the issue sets one. */
  target?: number;
  requestBytes: number;
  responseBytes?: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  /** Server CPU time (user + system) per request of the measured run. */
  cpuUsPerRequest: number;
  /** /proc/loadavg (1 min) before and after: other work on the machine shows here. */
  loadavg: [number, number];
  ratio?: number;
  /** Baseline's CPU µs per request ÷ this one's: the ratio if both were CPU-bound, less sensitive to other work on the machine. */
  cpuRatio?: number;
  pass?: boolean;
  check: Check;
  /** The measured run. */
  h2load: H2loadResult;
  /** Probe and warm-up runs: requests and rate. */
  warmup: Array<{ requests: number; rps: number }>;
  serverStats: Stats;
  serverCommand: string;
  skipped?: string;
}

interface ConcurrencyResult {
  id: string;
  inFlight: number;
  connectorDelayMs: number;
  wallS: number;
  eventLoopDelay: Stats["eventLoopDelay"];
  peakRssMb: number;
  targets: { wallS: number; eldP99Ms: number; peakRssMb: number };
  pass: { wall: boolean; eld: boolean; rss: boolean };
  loadavg: [number, number];
  check: Check;
  h2load: H2loadResult;
  serverStats: Stats;
}

interface StartupResult {
  dir: "fresh" | "existing";
  runs: Array<{ servingMs: number; servingCpuMs: number; idleRssMb: number; peakRssMb: number }>;
  servingMs: { median: number; min: number; max: number };
  servingCpuMs: { median: number; min: number; max: number };
  idleRssMb: { median: number; max: number };
  targets: { servingMs: number; idleRssMb: number };
  pass: { serving: boolean; idleRss: boolean };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const wanted = (id: string) => !settings.only || settings.only.has(id);
const log = (msg: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r2 = (n: number) => Math.round(n * 100) / 100;

function file(name: string, bytes: Uint8Array): string {
  const path = join(TMP, name);
  writeFileSync(path, bytes);
  return path;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function nodeFlagsFor(id: string): string[] {
  if (settings.cpuProf !== id) return [];
  mkdirSync(PROFILES, { recursive: true });
  return ["--cpu-prof", "--cpu-prof-dir", PROFILES, "--cpu-prof-name", `${id}.cpuprofile`];
}

type Ready = { grpcPort?: number; httpPort?: number; apiKey?: string; accountIds?: string[]; credentialsApiKey?: string; credentialsAccountId?: string };

interface LoadSpec {
  id: string;
  title: string;
  role: "scenario" | "baseline";
  entry: "service" | "grpc-noop" | "connect-noop";
  args?: string[];
  protocol: "grpc" | "connect";
  method: "ConnectAccount" | "GetAccount" | "ListAccounts" | "GetCredentials";
  store?: string;
  baseline?: string;
  target?: number;
  /** The request message (unenveloped), given the server's ready line. */
  request: (ready: Ready) => Uint8Array;
  responseBytes?: number;
  cleanup?: () => Promise<void>;
}

/**
 * One load run: a fresh server on the server CPU, h2load on the load CPU, then the checks
 * that every answer was a success as the server itself saw it.
 */
async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  log(`${spec.id}: ${spec.title}`);
  const loadBefore = loadavg()[0]!;
  const server = await startServer<Ready>(spec.entry, spec.args ?? [], { cpu: settings.serverCpu, nodeFlags: nodeFlagsFor(spec.id) });
  let stats: Stats | undefined;
  try {
    const message = spec.request(server.ready);
    const grpc = spec.protocol === "grpc";
    const body = file(`${spec.id}.body`, grpc ? envelope(message) : message);
    const port = grpc ? server.ready.grpcPort! : server.ready.httpPort!;
    const headers: Record<string, string> = grpc ? { "content-type": "application/grpc", te: "trailers" } : { "content-type": "application/proto", "connect-protocol-version": "1" };
    // GetCredentials needs the key with credentials:read, which the service's default key lacks.
    const apiKey = spec.method === "GetCredentials" ? server.ready.credentialsApiKey : server.ready.apiKey;
    if (apiKey) headers["x-api-key"] = apiKey;
    const { clients, streams } = settings;
    const base = { url: `http://127.0.0.1:${port}${rpcPath(spec.method)}`, body, headers, clients, streams, cpu: settings.loadCpu, logFile: join(TMP, `${spec.id}.h2load.log`) };
    // Whole multiples of the client count, at least one request per stream slot.
    const size = (n: number) => Math.max(clients * streams, Math.ceil(n / clients) * clients);
    // Count-based runs, so every request sent is answered and can be accounted for: a short
    // probe for the rate, a warm-up of ~warmupS at it, then the measured run sized to ~durationS.
    await server.send("reset");
    const probe = await runH2load({ ...base, requests: size(2_000) });
    const warmup = await runH2load({ ...base, requests: size(probe.rps * settings.warmupS) });
    const mark = await server.send<Stats>("stats");
    const h2 = await runH2load({ ...base, requests: size(warmup.rps * settings.durationS) });
    stats = await server.stop();
    // CPU over the measured run only (every one of its requests was answered, see the checks).
    const cpuMs = stats.cpu.userMs + stats.cpu.systemMs - (mark.cpu.userMs + mark.cpu.systemMs);
    const check = checkAnswers(spec, [probe, warmup, h2], stats);
    if (!check.ok) log(`${spec.id}: ANSWER CHECK FAILED: ${check.notes.filter((n) => n.startsWith("PROBLEM")).join("; ")}`);
    log(`${spec.id}: ${h2.rps} req/s, p50 ${h2.latency.p50Ms} ms, p99 ${h2.latency.p99Ms} ms, peak RSS ${stats.peakRssMb} MB`);
    return {
      id: spec.id,
      title: spec.title,
      role: spec.role,
      server: spec.entry,
      protocol: spec.protocol,
      method: spec.method,
      ...(spec.store ? { store: spec.store } : {}),
      ...(spec.baseline ? { baseline: spec.baseline } : {}),
      ...(spec.target !== undefined ? { target: spec.target } : {}),
      requestBytes: message.byteLength,
      ...(spec.responseBytes !== undefined ? { responseBytes: spec.responseBytes } : {}),
      rps: h2.rps,
      p50Ms: h2.latency.p50Ms,
      p99Ms: h2.latency.p99Ms,
      peakRssMb: stats.peakRssMb,
      cpuUsPerRequest: Math.round((cpuMs * 1000) / h2.requests.total),
      loadavg: [r2(loadBefore), r2(loadavg()[0]!)],
      check,
      h2load: h2,
      warmup: [probe, warmup].map((r) => ({ requests: r.requests.total, rps: r.rps })),
      serverStats: stats,
      serverCommand: server.command,
    };
  } finally {
    if (!stats) await server.stop().catch(() => undefined);
    await spec.cleanup?.();
  }
}

/**
 * h2load counts HTTP 200 as success, and gRPC sends its errors on 200 too. So: h2load must
 * report no failed/errored/timed-out stream and only 2xx; then the server's own counts must
 * show nothing but OK (grpc-js handler statuses for native gRPC, the service's own per-RPC log
 * lines for both protocols), at least as many OKs as h2load finished, and for ConnectAccount
 * the database must hold exactly one account (and one CONNECTED intent) per OK.
 */
function checkAnswers(spec: LoadSpec, runs: H2loadResult[], stats: Stats): Check {
  const notes: string[] = [];
  const problems: string[] = [];
  let sent = 0;
  for (const [i, h2] of runs.entries()) {
    const what = runs.length > 1 ? `h2load run ${i + 1}/${runs.length}` : "h2load";
    const req = h2.requests;
    const { "2xx": ok2xx, ...otherStatus } = h2.status;
    sent += req.total;
    const broken = req.failed + req.errored + req.timeout;
    if (broken > 0) problems.push(`${what}: ${req.failed} failed, ${req.errored} errored, ${req.timeout} timed out`);
    if (Object.values(otherStatus).some((n) => n > 0)) problems.push(`${what}: HTTP statuses ${JSON.stringify(h2.status)}`);
    if (ok2xx !== req.total || req.done !== req.total) problems.push(`${what}: ${ok2xx} × 2xx, ${req.done} done of ${req.total}`);
    const { "200": logged200 = 0, ...otherLogged } = h2.loggedStatus;
    if (Object.keys(otherLogged).length || logged200 !== req.total) problems.push(`${what}: its log has ${JSON.stringify(h2.loggedStatus)} for ${req.total} requests`);
  }
  const parts = runs.length === 3 ? `${runs.map((r) => r.requests.total).join(" + ")} = ${sent} requests (probe + warm-up + measured)` : `${sent} requests`;
  notes.push(`h2load: ${parts}, each one HTTP 2xx, none failed/errored/timed out`);

  let serverOk: number | undefined;
  if (spec.protocol === "grpc") {
    const counts = stats.grpcStatus[rpcPath(spec.method)] ?? {};
    const { OK: ok = 0, ...bad } = counts;
    serverOk = ok;
    if (Object.keys(bad).length) problems.push(`server gRPC statuses: ${JSON.stringify(counts)}`);
    notes.push(`server, grpc-status handed to grpc-js: ${ok} OK, ${sum(bad)} other`);
  }
  if (spec.entry === "service") {
    const counts = stats.rpcLog[`${spec.method}/${spec.protocol}`] ?? {};
    const { OK: ok = 0, ...bad } = counts;
    if (serverOk !== undefined && ok !== serverOk) problems.push(`rpc log says ${ok} OK, grpc-js ${serverOk}`);
    serverOk ??= ok;
    if (Object.keys(bad).length) problems.push(`service rpc log codes: ${JSON.stringify(counts)}`);
    notes.push(`server, the service's own rpc log lines: ${ok} OK, ${sum(bad)} other`);
    if (spec.method === "ConnectAccount") {
      const rows = stats.extra.rows as { accounts: number; intents: Record<string, number> } | undefined;
      if (!rows) problems.push(`row count unavailable: ${JSON.stringify(stats.extra)}`);
      else {
        notes.push(`database: ${rows.accounts} account rows, intents ${JSON.stringify(rows.intents)}`);
        if (rows.accounts !== ok) problems.push(`${rows.accounts} account rows for ${ok} OK answers`);
        if ((rows.intents.CONNECTED ?? 0) !== rows.accounts || Object.keys(rows.intents).length !== 1) problems.push("intents are not all CONNECTED");
      }
    }
  }
  if (serverOk !== undefined && serverOk !== sent) problems.push(`the server answered OK ${serverOk} times for ${sent} requests sent`);
  if (typeof stats.extra.handlerCalls === "number") {
    if (stats.extra.handlerCalls !== sent) problems.push(`the handler ran ${stats.extra.handlerCalls} times for ${sent} requests sent`);
    notes.push(`server: the handler ran ${stats.extra.handlerCalls} times`);
  }
  if (spec.protocol === "connect") notes.push("Connect protocol: an error is a non-2xx HTTP status, so h2load's status counts check it");
  return { ok: problems.length === 0, notes: [...problems.map((p) => `PROBLEM: ${p}`), ...notes] };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: settings.databaseUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${settings.databaseUrl} is not reachable: ${String(e)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: settings.databaseUrl });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Capture: the real service's answers, which the no-op baselines send back

async function captureResponses(dir: string): Promise<Record<string, number>> {
  log("capture: the real service's answers (sizes for the baselines)");
  const server = await startServer<Ready>("service", ["--seed", String(settings.seed), "--credentials"], { cpu: settings.serverCpu });
  try {
    const auth = { "x-api-key": server.ready.apiKey! };
    const calls: Array<[LoadSpec["method"], Uint8Array, Record<string, string>]> = [
      ["ConnectAccount", connectRequest(), auth],
      ["GetAccount", getRequest(server.ready.accountIds![0]!), auth],
      ["ListAccounts", listRequest(), auth],
      ["GetCredentials", credentialsRequest(server.ready.credentialsAccountId!), { "x-api-key": server.ready.credentialsApiKey! }],
    ];
    const sizes: Record<string, number> = {};
    for (const [method, request, headers] of calls) {
      const answer = await grpcUnary(server.ready.grpcPort!, rpcPath(method), request, headers);
      if (answer.grpcStatus !== 0) throw new Error(`capture: ${method} answered grpc-status ${answer.grpcStatus} ${answer.grpcMessage}`);
      writeFileSync(join(dir, `${method}.bin`), answer.message);
      sizes[method] = answer.message.length;
    }
    if (!isAccountCreated(readFileSync(join(dir, "ConnectAccount.bin")))) throw new Error("capture: ConnectAccount did not answer AccountCreated");
    return sizes;
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: N ConnectAccount in flight against a slow connector

async function runConcurrency(): Promise<ConcurrencyResult> {
  const id = "connect-grpc-sqlite-5000-in-flight";
  log(`${id}: ${settings.inFlight} ConnectAccount in flight, connector takes ${settings.slowConnectorMs} ms`);
  const loadBefore = loadavg()[0]!;
  // The workspace's cap on open intents (MAX_PENDING_INTENTS, 1,000 by default) would refuse most of the burst: raised to the burst.
  const args = ["--connector-delay-ms", String(settings.slowConnectorMs), "--max-pending-intents", String(settings.inFlight)];
  const server = await startServer<Ready>("service", args, { cpu: settings.serverCpu, nodeFlags: nodeFlagsFor(id) });
  let stats: Stats | undefined;
  try {
    const clients = 50;
    const streams = Math.ceil(settings.inFlight / clients);
    await server.send("reset");
    const h2 = await runH2load({
      url: `http://127.0.0.1:${server.ready.grpcPort}/${SERVICE}/ConnectAccount`,
      body: file(`${id}.body`, envelope(connectRequest())),
      headers: { "content-type": "application/grpc", te: "trailers", "x-api-key": server.ready.apiKey! },
      clients,
      streams,
      requests: settings.inFlight,
      cpu: settings.loadCpu,
      logFile: join(TMP, `${id}.h2load.log`),
    });
    const during = await server.send<Stats>("stats");
    stats = await server.stop();
    const spec: LoadSpec = { id, title: id, role: "scenario", entry: "service", protocol: "grpc", method: "ConnectAccount", request: connectRequest };
    const check = checkAnswers(spec, [h2], stats);
    if (h2.status["2xx"] !== settings.inFlight) {
      check.notes.unshift(`PROBLEM: ${h2.status["2xx"]} of ${settings.inFlight} answered 2xx`);
      check.ok = false;
    }
    const wallS = r2(h2.finishedS);
    const targets = { wallS: 2.5, eldP99Ms: 20, peakRssMb: 400 };
    log(`${id}: ${wallS} s, event-loop delay p99 ${during.eventLoopDelay.p99Ms} ms, peak RSS ${stats.peakRssMb} MB`);
    return {
      id,
      inFlight: settings.inFlight,
      connectorDelayMs: settings.slowConnectorMs,
      wallS,
      eventLoopDelay: during.eventLoopDelay,
      peakRssMb: stats.peakRssMb,
      targets,
      pass: { wall: wallS <= targets.wallS, eld: during.eventLoopDelay.p99Ms <= targets.eldP99Ms, rss: stats.peakRssMb <= targets.peakRssMb },
      loadavg: [r2(loadBefore), r2(loadavg()[0]!)],
      check,
      h2load: h2,
      serverStats: stats,
    };
  } finally {
    if (!stats) await server.stop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up and idle: the real `node src/main.ts` on a fresh data directory

/**
 * CPU time (user + system, every thread) a process has used so far. On a shared machine the
 * wall time to SERVING moves with the other work; the CPU it took moves much less.
 */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMb: r2(kb("VmRSS") / 1024), peakMb: r2(kb("VmHWM") / 1024) };
}

/** The default of `npm start` (package.json) for Node's compile cache. */
const COMPILE_CACHE_DIR = "node_modules/.cache/postpress-accounts";

/**
 * `fresh`: each run on a new DATA_DIR (creating the sealing key, the SQLite file, migrations,
 * the bootstrap workspace and key). `existing`: every run on the one DATA_DIR a first,
 * unmeasured start made, as a restart finds it. In both, a first unmeasured start also writes
 * what any later start finds: Node's compile cache, and the start-up bundle when a source
 * changed since it was built (src/bundle/).
 */
async function runStartup(dir: "fresh" | "existing"): Promise<StartupResult> {
  log(`startup (${dir} DATA_DIR): ${settings.startupRuns} × node ${settings.main}, poll health until SERVING`);
  const runs: StartupResult["runs"] = [];
  const shared = dir === "existing" ? mkdtempSync(join(tmpdir(), "ppa-bench-start-")) : undefined;
  for (let i = -1; i < settings.startupRuns; i++) {
    const dataDir = shared ?? mkdtempSync(join(tmpdir(), "ppa-bench-start-"));
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const started = performance.now();
    const child = spawn("taskset", ["-c", String(settings.serverCpu), process.execPath, "--disable-warning=ExperimentalWarning", settings.main], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      // NODE_COMPILE_CACHE as `npm start` sets it (package.json), so main.ts too is read from the cache.
      env: { ...env, NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? COMPILE_CACHE_DIR, DATA_DIR: dataDir, GRPC_PORT: String(grpcPort), HTTP_PORT: String(httpPort), HOST: "127.0.0.1", DATABASE_URL: "", NODE_ENV: "", SEALING_KEYS: "", SEALING_ACTIVE_KEY: "" },
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    let servingMs: number | undefined;
    let servingCpuMs = NaN;
    try {
      while (servingMs === undefined) {
        if (child.exitCode !== null) throw new Error(`${settings.main} exited with ${child.exitCode}: ${stderr}`);
        if (performance.now() - started > 30_000) throw new Error(`${settings.main} not SERVING within 30 s`);
        if (await healthServing(grpcPort).catch(() => false)) {
          servingMs = performance.now() - started;
          servingCpuMs = cpuMsOf(child.pid!);
        }
        else await sleep(2);
      }
      // The first start only makes the caches (and the shared directory).
      if (i < 0) continue;
      await sleep(settings.idleWaitMs);
      const rss = rssOf(child.pid!);
      runs.push({ servingMs: r2(servingMs), servingCpuMs, idleRssMb: rss.rssMb, peakRssMb: rss.peakMb });
      log(`startup (${dir}) #${i + 1}: SERVING after ${r2(servingMs)} ms (${servingCpuMs} ms CPU), idle RSS ${rss.rssMb} MB`);
    } finally {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
      if (!shared) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (shared) rmSync(shared, { recursive: true, force: true });
  const serving = runs.map((r) => r.servingMs);
  const servingCpu = runs.map((r) => r.servingCpuMs);
  const idle = runs.map((r) => r.idleRssMb);
  const targets = { servingMs: 300, idleRssMb: 120 };
  const result = {
    dir,
    runs,
    servingMs: { median: r2(median(serving)), min: Math.min(...serving), max: Math.max(...serving) },
    servingCpuMs: { median: r2(median(servingCpu)), min: Math.min(...servingCpu), max: Math.max(...servingCpu) },
    idleRssMb: { median: r2(median(idle)), max: Math.max(...idle) },
    targets,
    pass: { serving: false, idleRss: false },
  };
  result.pass = { serving: result.servingMs.median <= targets.servingMs, idleRss: result.idleRssMb.median <= targets.idleRssMb };
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? "" : pass ? "PASS" : "**FAIL**";
}

function markdown(meta: Record<string, unknown>, loads: LoadResult[], concurrency: ConcurrencyResult | undefined, startups: StartupResult[], skipped: string[]): string {
  const lines: string[] = [];
  lines.push(`# postpress-accounts benchmark: ${meta.date}`, "");
  lines.push(`Code: ${meta.commit}.`);
  lines.push(`Machine: ${meta.cpu} × ${meta.cores} cores, ${meta.node}, ${meta.h2load}; load average at start ${meta.loadavg}.`);
  lines.push(`Server pinned to CPU ${settings.serverCpu} (\`taskset -c ${settings.serverCpu}\`), h2load and the harness to CPU ${settings.loadCpu}.`);
  lines.push(`Load runs: h2load -c ${settings.clients} -m ${settings.streams} (${settings.clients * settings.streams} in flight), count-based: a 2,000-request probe, ~${settings.warmupS} s warm-up, then ~${settings.durationS} s measured (request counts sized from the warm-up's rate); one fresh server process per scenario.`, "");
  if (loads.length) {
    lines.push("## Throughput and latency", "");
    lines.push("| scenario | req/s | p50 ms | p99 ms | peak RSS MB | req/resp bytes | baseline | ratio | target | verdict | server CPU µs/req | CPU ratio | answers checked |");
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | --- |");
    for (const r of loads) {
      lines.push(
        `| ${r.id} | ${Math.round(r.rps)} | ${r.p50Ms} | ${r.p99Ms} | ${r.peakRssMb} | ${r.requestBytes}/${r.responseBytes ?? "?"} | ${r.baseline ?? "—"} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : "—"} | ${r.target !== undefined ? `≥ ${r.target}×` : "—"} | ${verdict(r.pass)} | ${r.cpuUsPerRequest} | ${r.cpuRatio !== undefined ? `${r.cpuRatio.toFixed(2)}×` : "—"} | ${r.check.ok ? "all OK" : "**FAILED**"} |`,
      );
    }
    lines.push("", "Ratio: requests/s ÷ the baseline's requests/s in this run (the targets apply to it). CPU ratio: the baseline's server CPU time per request ÷ this one's.");
    lines.push("", "Other work on the machine during each load run (1-min load average before → after; involuntary context switches of the server per second):", "");
    lines.push(loads.map((r) => `${r.id} ${r.loadavg[0]} → ${r.loadavg[1]}, ${Math.round((r.serverStats.cpu.involuntarySwitches * 1000) / r.serverStats.cpu.sinceMs)}/s`).join("; ") + ".");
  }
  if (concurrency) {
    const c = concurrency;
    lines.push("", `## ${c.inFlight} ConnectAccount in flight, connector takes ${c.connectorDelayMs} ms (gRPC, embedded store)`, "");
    lines.push("| measure | value | target | verdict |", "| --- | ---: | ---: | --- |");
    lines.push(`| total wall time | ${c.wallS} s | ≤ ${c.targets.wallS} s | ${verdict(c.pass.wall)} |`);
    lines.push(`| event-loop delay p99 (in the server) | ${c.eventLoopDelay.p99Ms} ms | ≤ ${c.targets.eldP99Ms} ms | ${verdict(c.pass.eld)} |`);
    lines.push(`| event-loop delay max | ${c.eventLoopDelay.maxMs} ms | | |`);
    lines.push(`| peak RSS | ${c.peakRssMb} MB | ≤ ${c.targets.peakRssMb} MB | ${verdict(c.pass.rss)} |`);
    lines.push(`| request latency p50 / p99 | ${c.h2load.latency.p50Ms} / ${c.h2load.latency.p99Ms} ms | | |`);
    lines.push(`| answers checked | ${c.check.ok ? "all OK" : "**FAILED**"} (${c.h2load.status["2xx"]} × 2xx) | | |`);
    lines.push(`| other work: load average, server involuntary switches | ${c.loadavg[0]} → ${c.loadavg[1]}, ${Math.round((c.serverStats.cpu.involuntarySwitches * 1000) / c.serverStats.cpu.sinceMs)}/s | | |`);
  }
  if (startups.length) {
    lines.push("", `## Start-up and idle (\`node ${settings.main}\`, embedded store; ${settings.startupRuns} runs each)`, "");
    lines.push("| DATA_DIR | measure | median | min / max | target | verdict |", "| --- | --- | ---: | ---: | ---: | --- |");
    for (const s of startups) {
      lines.push(`| ${s.dir} | process start → health SERVING | ${s.servingMs.median} ms | ${s.servingMs.min} / ${s.servingMs.max} ms | ≤ ${s.targets.servingMs} ms | ${verdict(s.pass.serving)} |`);
      lines.push(`| ${s.dir} | its CPU time by then (user + system, all threads) | ${s.servingCpuMs.median} ms | ${s.servingCpuMs.min} / ${s.servingCpuMs.max} ms | | |`);
      lines.push(`| ${s.dir} | idle RSS (${settings.idleWaitMs / 1000} s after SERVING) | ${s.idleRssMb.median} MB | max ${s.idleRssMb.max} MB | ≤ ${s.targets.idleRssMb} MB | ${verdict(s.pass.idleRss)} |`);
    }
  }
  if (skipped.length) lines.push("", "## Skipped", "", ...skipped.map((s) => `- ${s}`));
  if (loads.length || concurrency) lines.push("", "## How each run's answers were checked", "");
  for (const r of loads) lines.push(`- ${r.id}: ${r.check.notes.join("; ")}`);
  if (concurrency) lines.push(`- ${concurrency.id}: ${concurrency.check.notes.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  ensureH2load();
  if (spawnSync("taskset", ["--version"]).status !== 0) throw new Error("taskset (util-linux) is missing");
  if (cpus().length < 2) log(`WARNING: ${cpus().length} CPU(s): server and load generator will share one`);
  // The harness (and so h2load, and the start-up poll) stays off the server's CPU.
  spawnSync("taskset", ["-a", "-p", "-c", String(settings.loadCpu), String(process.pid)], { stdio: "ignore" });
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });

  const h2version = spawnSync("h2load", ["--version"]).stdout.toString().trim();
  const git = (...args: string[]) => spawnSync("git", args, { cwd: ROOT }).stdout?.toString().trim() ?? "";
  const commit = env.BENCH_COMMIT ?? (git("rev-parse", "--short", "HEAD") || "unknown");
  const dirty = env.BENCH_COMMIT ? "" : git("status", "--porcelain", "--untracked-files=no", "--", "src", "gen", "proto", "package.json", "package-lock.json");
  const meta = {
    date: new Date().toISOString(),
    commit: dirty ? `${commit} + uncommitted changes in src/gen/proto` : commit,
    cpu: cpus()[0]?.model ?? "?",
    cores: cpus().length,
    node: `Node ${process.version}`,
    h2load: h2version,
    loadavg: loadavg().map((n) => n.toFixed(2)).join(" "),
    settings,
  };
  log(`${meta.node}, ${h2version}, ${meta.cores} cores, load average ${meta.loadavg}`);

  const responses = join(TMP, "responses");
  mkdirSync(responses, { recursive: true });
  const sizes = await captureResponses(responses);

  const skipped: string[] = [];
  const pgScenarios = ["connect-grpc-postgres", "get-grpc-postgres", "list-grpc-postgres"];
  const pgProblem = pgScenarios.some(wanted) ? await postgresReachable() : undefined;
  const pgSchema = `bench_${randomBytes(4).toString("hex")}`;
  // A read scenario on PostgreSQL: its own schema, seeded like the embedded store's.
  const pgRead = (id: string, method: "GetAccount" | "ListAccounts", title: string, request: LoadSpec["request"], baseline: string, target: number | undefined): LoadSpec => {
    const schema = `bench_${randomBytes(4).toString("hex")}`;
    return {
      id,
      title,
      role: "scenario",
      entry: "service",
      args: ["--seed", String(settings.seed), "--store", "postgres", "--database-url", settings.databaseUrl, "--schema", schema],
      protocol: "grpc",
      method,
      store: "postgres",
      baseline,
      ...(target !== undefined ? { target } : {}),
      request,
      responseBytes: sizes[method]!,
      cleanup: () => dropSchema(schema),
    };
  };
  const noopArgs = ["--responses", responses];
  const specs: LoadSpec[] = [
    { id: "noop-grpc-connect", title: "baseline: bare grpc-js no-op, ConnectAccount sizes", role: "baseline", entry: "grpc-noop", args: noopArgs, protocol: "grpc", method: "ConnectAccount", request: connectRequest, responseBytes: sizes.ConnectAccount! },
    { id: "connect-grpc-sqlite", title: "ConnectAccount over native gRPC, embedded store (SQLite)", role: "scenario", entry: "service", protocol: "grpc", method: "ConnectAccount", store: "sqlite", baseline: "noop-grpc-connect", target: 0.5, request: connectRequest, responseBytes: sizes.ConnectAccount! },
    {
      id: "connect-grpc-postgres",
      title: "ConnectAccount over native gRPC, PostgreSQL",
      role: "scenario",
      entry: "service",
      args: ["--store", "postgres", "--database-url", settings.databaseUrl, "--schema", pgSchema],
      protocol: "grpc",
      method: "ConnectAccount",
      store: "postgres",
      baseline: "noop-grpc-connect",
      request: connectRequest,
      responseBytes: sizes.ConnectAccount!,
      cleanup: () => dropSchema(pgSchema),
    },
    { id: "noop-connect-connect", title: "baseline: bare connect-node no-op, ConnectAccount sizes", role: "baseline", entry: "connect-noop", args: noopArgs, protocol: "connect", method: "ConnectAccount", request: connectRequest, responseBytes: sizes.ConnectAccount! },
    { id: "connect-connect-sqlite", title: "ConnectAccount over the Connect protocol (binary), embedded store", role: "scenario", entry: "service", protocol: "connect", method: "ConnectAccount", store: "sqlite", baseline: "noop-connect-connect", target: 0.7, request: connectRequest, responseBytes: sizes.ConnectAccount! },
    { id: "noop-grpc-get", title: "baseline: bare grpc-js no-op, GetAccount sizes", role: "baseline", entry: "grpc-noop", args: noopArgs, protocol: "grpc", method: "GetAccount", request: () => getRequest("acc_01JBENCHBENCHBENCHBENCHBEN"), responseBytes: sizes.GetAccount! },
    { id: "get-grpc-sqlite", title: "GetAccount over native gRPC, embedded store", role: "scenario", entry: "service", args: ["--seed", String(settings.seed)], protocol: "grpc", method: "GetAccount", store: "sqlite", baseline: "noop-grpc-get", target: 0.7, request: (ready) => getRequest(ready.accountIds![0]!), responseBytes: sizes.GetAccount! },
    pgRead("get-grpc-postgres", "GetAccount", "GetAccount over native gRPC, PostgreSQL", (ready) => getRequest(ready.accountIds![0]!), "noop-grpc-get", undefined),
    { id: "noop-grpc-credentials", title: "baseline: bare grpc-js no-op, GetCredentials sizes", role: "baseline", entry: "grpc-noop", args: noopArgs, protocol: "grpc", method: "GetCredentials", request: () => credentialsRequest("acc_01JBENCHBENCHBENCHBENCHBEN"), responseBytes: sizes.GetCredentials! },
    {
      id: "credentials-grpc-sqlite",
      title: "GetCredentials (Outlook, cached unexpired token) over native gRPC, embedded store",
      role: "scenario",
      entry: "service",
      args: ["--credentials"],
      protocol: "grpc",
      method: "GetCredentials",
      store: "sqlite",
      baseline: "noop-grpc-credentials",
      target: 0.6,
      request: (ready) => credentialsRequest(ready.credentialsAccountId!),
      responseBytes: sizes.GetCredentials!,
    },
    { id: "noop-grpc-list", title: "baseline: bare grpc-js no-op, ListAccounts (page of 50) sizes", role: "baseline", entry: "grpc-noop", args: noopArgs, protocol: "grpc", method: "ListAccounts", request: listRequest, responseBytes: sizes.ListAccounts! },
    { id: "list-grpc-sqlite", title: "ListAccounts (page of 50) over native gRPC, embedded store", role: "scenario", entry: "service", args: ["--seed", String(settings.seed)], protocol: "grpc", method: "ListAccounts", store: "sqlite", baseline: "noop-grpc-list", target: 0.5, request: listRequest, responseBytes: sizes.ListAccounts! },
    pgRead("list-grpc-postgres", "ListAccounts", "ListAccounts (page of 50) over native gRPC, PostgreSQL", listRequest, "noop-grpc-list", undefined),
  ];

  const loads: LoadResult[] = [];
  for (const spec of specs) {
    // A baseline runs whenever a scenario that needs it does.
    const needed = wanted(spec.id) || specs.some((s) => s.baseline === spec.id && wanted(s.id));
    if (!needed) continue;
    if (spec.store === "postgres" && pgProblem) {
      skipped.push(`${spec.id}: ${pgProblem}`);
      log(`${spec.id}: SKIPPED (${pgProblem})`);
      continue;
    }
    loads.push(await runLoad(spec));
  }
  for (const r of loads) {
    const base = loads.find((b) => b.id === r.baseline);
    if (!base) continue;
    r.ratio = r2(r.rps / base.rps);
    r.cpuRatio = r2(base.cpuUsPerRequest / r.cpuUsPerRequest);
    if (r.target !== undefined) r.pass = r.ratio >= r.target && r.check.ok;
  }

  const concurrency = wanted("connect-grpc-sqlite-5000-in-flight") ? await runConcurrency() : undefined;
  const startups = wanted("startup") ? [await runStartup("fresh"), await runStartup("existing")] : [];

  const results = { meta, loads, concurrency, startups, skipped };
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(meta, loads, concurrency, startups, skipped);
  writeFileSync(join(OUT, "results.md"), md);
  process.stdout.write(md);
  log(`wrote ${join(OUT, "results.json")} and ${join(OUT, "results.md")}`);
  const allChecked = loads.every((r) => r.check.ok) && (concurrency?.check.ok ?? true);
  if (!allChecked) {
    log("some runs had answers that were not all successes: see results.md");
    process.exitCode = 1;
  }
}

await main();
