/**
 * Pending intents with open WatchAccount streams: what they cost an idle server, and how fast a
 * change made on one replica reaches a watcher on another over PostgreSQL (LISTEN/NOTIFY).
 *
 *   node bench/watchers.ts [--intents 10000] [--store sqlite|postgres] [--idle-seconds 30]
 *                          [--replica-samples 300] [--database-url postgres://...]
 *
 * 1. One service process (bench/watchers/server.ts), N WhatsApp intents each stopped at a QR
 *    code, one WatchAccount stream open on each (gRPC, spread over 50 HTTP/2 connections). Once
 *    every stream has its first event, the server's CPU time (/proc/<pid>/stat) is measured over
 *    the idle window, with its resident set size (/proc/<pid>/status).
 * 2. Two service processes on one PostgreSQL schema: intents started on A, watched on B; each
 *    is canceled on A and the time until B's watcher receives CANCELED is recorded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import {
  AccountEventKind,
  CancelCheckpointRequestSchema,
  CancelCheckpointResponseSchema,
  ConnectAccountRequestSchema,
  ConnectAccountResponseSchema,
  WatchAccountRequestSchema,
  WatchAccountResponseSchema,
  type WatchAccountResponse,
} from "../gen/postpress/accounts/v1/account_service_pb.js";

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const INTENTS = Number(option("intents") ?? 10_000);
const STORE = option("store") ?? "sqlite";
const IDLE_SECONDS = Number(option("idle-seconds") ?? 30);
// After the last stream opened: the heap settles (V8 finishes the collections the set-up left) before the window.
const SETTLE_SECONDS = Number(option("settle-seconds") ?? 20);
const REPLICA_SAMPLES = Number(option("replica-samples") ?? 300);
const DATABASE_URL = option("database-url") ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CHANNELS = 50;
const SERVICE = "/postpress.accounts.v1.AccountService";
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface Replica {
  child: ChildProcess;
  grpcPort: number;
  pid: number;
  apiKey: string;
}

async function startReplica(args: string[]): Promise<Replica> {
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ["--cpu-prof", "--cpu-prof-dir=/tmp/wprof"] : []), "--disable-warning=ExperimentalWarning", "bench/watchers/server.ts", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`replica exited (${code})`)));
    createInterface({ input: child.stdout! }).once("line", (l) => resolve({ child, ...(JSON.parse(l) as Omit<Replica, "child">) }));
  });
}

function codec<D extends DescMessage>(schema: D) {
  return { serialize: (m: MessageShape<D>) => Buffer.from(toBinary(schema, m)), deserialize: (b: Buffer) => fromBinary(schema, b) };
}
const watchCodec = codec(WatchAccountResponseSchema);

function channels(port: number): grpc.Client[] {
  // Distinct channel options: grpc-js would otherwise share one connection between clients.
  return Array.from({ length: CHANNELS }, (_, i) => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.bench_channel": i, "grpc.max_receive_message_length": 4 << 20 }));
}

function metadata(apiKey: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set("x-api-key", apiKey);
  return m;
}

function unary<I extends DescMessage, O extends DescMessage>(client: grpc.Client, method: string, input: I, output: O, message: MessageShape<I>, apiKey: string): Promise<MessageShape<O>> {
  const out = codec(output);
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(`${SERVICE}/${method}`, codec(input).serialize, out.deserialize, message, metadata(apiKey), (err, value) => (err ? reject(err) : resolve(value!))),
  );
}

async function connectMany(clients: grpc.Client[], count: number, apiKey: string): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const request = create(ConnectAccountRequestSchema, { variant: { case: "whatsapp", value: {} } });
      const response = await unary(clients[i % clients.length]!, "ConnectAccount", ConnectAccountRequestSchema, ConnectAccountResponseSchema, request, apiKey);
      if (response.outcome.case !== "checkpoint") throw new Error(`expected a checkpoint, got ${response.object}`);
      ids.push(response.accountId);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return ids;
}

interface Watch {
  call: grpc.ClientReadableStream<WatchAccountResponse>;
  first: Promise<void>;
  /** Resolves with the arrival time of the first event of `kind` after the first one. */
  next(kind: AccountEventKind): Promise<number>;
}

function watch(client: grpc.Client, accountId: string, apiKey: string): Watch {
  const call = client.makeServerStreamRequest(`${SERVICE}/WatchAccount`, codec(WatchAccountRequestSchema).serialize, watchCodec.deserialize, create(WatchAccountRequestSchema, { accountId }), metadata(apiKey));
  const waiters: { kind: AccountEventKind; resolve: (at: number) => void }[] = [];
  let resolveFirst: () => void;
  let rejectFirst: (err: Error) => void;
  const first = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  call.on("data", (m: WatchAccountResponse) => {
    const at = performance.now();
    resolveFirst();
    for (const w of waiters.splice(0)) if (m.event?.kind === w.kind) w.resolve(at);
  });
  // A watch that fails before its first event fails the run (a cancel at the end is expected).
  call.on("error", (err: Error) => rejectFirst(err));
  return { call, first, next: (kind) => new Promise((resolve) => waiters.push({ kind, resolve })) };
}

/** Opened a batch at a time, each batch waiting for its first events, as clients arriving over a few seconds would. */
async function openWatches(clients: grpc.Client[], ids: string[], apiKey: string): Promise<Watch[]> {
  const watches: Watch[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const batch = ids.slice(i, i + 200).map((id, j) => watch(clients[(i + j) % clients.length]!, id, apiKey));
    await Promise.all(batch.map((w) => w.first));
    watches.push(...batch);
  }
  return watches;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

/** CPU ticks per thread name (the main thread is "node"; V8 and libuv helpers have their own names). */
function threadTicks(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      byName.set(name, (byName.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended.
    }
  }
  return byName;
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return Math.round(kb / 1024);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function idleScenario(): Promise<Record<string, unknown>> {
  const schema = `bench_w_${randomBytes(4).toString("hex")}`;
  const args = STORE === "postgres" ? ["--store", "postgres", "--database-url", DATABASE_URL, "--schema", schema] : ["--store", "sqlite"];
  const server = await startReplica(args);
  const clients = channels(server.grpcPort);
  const rssStart = rssMb(server.pid);
  const t0 = performance.now();
  const ids = await connectMany(clients, INTENTS, server.apiKey);
  const connectS = (performance.now() - t0) / 1000;
  const watches = await openWatches(clients, ids, server.apiKey);
  const openS = (performance.now() - t0) / 1000 - connectS;
  await sleep(SETTLE_SECONDS * 1000);
  const before = cpuTicks(server.pid);
  const threadsBefore = threadTicks(server.pid);
  const started = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const seconds = (performance.now() - started) / 1000;
  const cpuPercent = ((cpuTicks(server.pid) - before) / CLOCK_TICKS / seconds) * 100;
  const byThread = Object.fromEntries([...threadTicks(server.pid)].map(([name, ticks]) => [name, +(((ticks - (threadsBefore.get(name) ?? 0)) / CLOCK_TICKS / seconds) * 100).toFixed(2)]).filter(([, v]) => Number(v) > 0));
  const result = { store: STORE, intents: INTENTS, watches: watches.length, connectSeconds: +connectS.toFixed(1), openWatchesSeconds: +openS.toFixed(1), settleSeconds: SETTLE_SECONDS, idleSeconds: IDLE_SECONDS, idleCpuPercentOfOneCore: +cpuPercent.toFixed(2), idleCpuPercentByThread: byThread, rssMbBefore: rssStart, rssMbWithWatches: rssMb(server.pid) };
  for (const w of watches) w.call.cancel();
  for (const c of clients) c.close();
  server.child.kill("SIGTERM");
  if (STORE === "postgres") await dropSchema(schema);
  return result;
}

async function replicaScenario(): Promise<Record<string, unknown>> {
  const schema = `bench_r_${randomBytes(4).toString("hex")}`;
  const keys = `bench:${randomBytes(32).toString("base64")}`;
  const pgArgs = ["--store", "postgres", "--database-url", DATABASE_URL, "--schema", schema, "--sealing-keys", keys];
  const a = await startReplica(pgArgs);
  const b = await startReplica([...pgArgs, "--api-key", a.apiKey]);
  const [onA, onB] = [channels(a.grpcPort).slice(0, 4), channels(b.grpcPort).slice(0, 4)];
  const ids = await connectMany(onA, REPLICA_SAMPLES, a.apiKey);
  const watches = await openWatches(onB, ids, a.apiKey);
  const latencies: number[] = [];
  for (const [i, id] of ids.entries()) {
    const arrived = watches[i]!.next(AccountEventKind.CANCELED);
    const sent = performance.now();
    await unary(onA[i % onA.length]!, "CancelCheckpoint", CancelCheckpointRequestSchema, CancelCheckpointResponseSchema, create(CancelCheckpointRequestSchema, { accountId: id }), a.apiKey);
    latencies.push((await arrived) - sent);
    await sleep(10);
  }
  latencies.sort((x, y) => x - y);
  for (const c of [...onA, ...onB]) c.close();
  a.child.kill("SIGTERM");
  b.child.kill("SIGTERM");
  await sleep(500);
  await dropSchema(schema);
  const ms = (v: number) => +v.toFixed(1);
  return { samples: latencies.length, p50Ms: ms(percentile(latencies, 50)), p90Ms: ms(percentile(latencies, 90)), p99Ms: ms(percentile(latencies, 99)), maxMs: ms(latencies.at(-1)!) };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

const idle = await idleScenario();
console.log(JSON.stringify({ scenario: "idle watchers on one process", ...idle }));
if (REPLICA_SAMPLES > 0) {
  const crossReplica = await replicaScenario();
  console.log(JSON.stringify({ scenario: "event on replica A to watcher on replica B (PostgreSQL)", ...crossReplica }));
}
process.exit(0);
