import { openSync, writeSync } from "node:fs";
import { monitorEventLoopDelay, type ELDHistogram } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";

/**
 * What every bench server shares: a control channel on stdin/stdout, process stats, and
 * server-side counts of the answers it gave.
 *
 * Protocol: the server prints one JSON line when it listens (its ports and whatever the
 * harness needs), then answers each command line on stdin with one JSON line:
 *   reset  - restart the event-loop delay histogram and the answer counters
 *   stats  - the current stats (see Stats)
 *   exit   - stats, then the server stops (SIGTERM and stdin closing do the same)
 */

/** Event-loop delay sampling period. The histogram holds the time between samples, so it includes this. */
export const ELD_RESOLUTION_MS = 1;

export interface Stats {
  pid: number;
  /** Peak resident set size of the process so far (process.resourceUsage().maxRSS), MB. */
  peakRssMb: number;
  rssMb: number;
  heapUsedMb: number;
  /**
   * CPU time of the process since the last reset (or start), ms; and how often the kernel took
   * the CPU away from it (involuntary context switches): other work on the server's core.
   */
  cpu: { userMs: number; systemMs: number; sinceMs: number; involuntarySwitches: number };
  /** Since the last reset, ms. Raw histogram values: they include ELD_RESOLUTION_MS. */
  eventLoopDelay: { resolutionMs: number; samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Answers by RPC path and gRPC status code name, as grpc-js was handed them (native gRPC only). */
  grpcStatus: Record<string, Record<string, number>>;
  /** The service's own one-line-per-RPC log, counted by method/transport and code (service server only). */
  rpcLog: Record<string, Record<string, number>>;
  /** Anything the server adds (row counts, ...). */
  extra: Record<string, unknown>;
}

const codeName = new Map(Object.entries(grpc.status).filter(([, v]) => typeof v === "number").map(([k, v]) => [v as number, k]));

/** Plain counters a server bumps itself; zeroed by reset, reported in stats.extra. */
export const counters: Record<string, number> = {};

let eld: ELDHistogram = newHistogram();
let cpuBase = process.cpuUsage();
let cpuSince = performance.now();
let switchesBase = process.resourceUsage().involuntaryContextSwitches;
const grpcStatus: Record<string, Record<string, number>> = {};
const rpcLog: Record<string, Record<string, number>> = {};

function newHistogram(): ELDHistogram {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  h.enable();
  return h;
}

function bump(table: Record<string, Record<string, number>>, key: string, code: string): void {
  const row = (table[key] ??= {});
  row[code] = (row[code] ?? 0) + 1;
}

/**
 * Counts the status of every unary answer grpc-js servers in this process send, by wrapping
 * the handlers handed to Server.addService: no interceptor and no change to src/. Call it
 * before any server is built. It sees the status the handler gives grpc-js; a failure inside
 * grpc-js after that (e.g. the response failing to serialize) would not be counted here.
 */
export function countGrpcStatuses(): void {
  const original = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (this: grpc.Server, service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      const definition = service[name];
      if (!definition || definition.requestStream || definition.responseStream) {
        wrapped[name] = handler;
        continue;
      }
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      wrapped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        unary(call, (error, value, trailer, flags) => {
          bump(grpcStatus, definition.path, error ? (codeName.get(error.code ?? grpc.status.UNKNOWN) ?? String(error.code)) : "OK");
          callback(error, value, trailer, flags);
        })) as grpc.UntypedHandleCall;
    }
    return original.call(this, service, wrapped);
  };
}

/**
 * A pino destination that counts the service's "rpc" log lines by method, transport and code,
 * then writes every line to /dev/null with a synchronous write (as pino's default stdout
 * destination does), so the cost of logging stays in the measurement.
 */
export function countingLogDestination(): { write(line: string): void } {
  const devNull = openSync("/dev/null", "w");
  const field = (line: string, name: string) => {
    const at = line.indexOf(`"${name}":"`);
    if (at < 0) return undefined;
    const start = at + name.length + 4;
    return line.slice(start, line.indexOf('"', start));
  };
  return {
    write(line: string) {
      if (line.includes('"msg":"rpc"')) bump(rpcLog, `${field(line, "method")}/${field(line, "transport")}`, field(line, "code") ?? "?");
      writeSync(devNull, line);
    },
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function stats(extra: Record<string, unknown> = {}): Stats {
  const mem = process.memoryUsage();
  return {
    pid: process.pid,
    peakRssMb: round(process.resourceUsage().maxRSS / 1024, 1),
    rssMb: round(mem.rss / 2 ** 20, 1),
    heapUsedMb: round(mem.heapUsed / 2 ** 20, 1),
    cpu: (() => {
      const used = process.cpuUsage(cpuBase);
      const involuntarySwitches = process.resourceUsage().involuntaryContextSwitches - switchesBase;
      return { userMs: round(used.user / 1000, 1), systemMs: round(used.system / 1000, 1), sinceMs: round(performance.now() - cpuSince, 1), involuntarySwitches };
    })(),
    eventLoopDelay: {
      resolutionMs: ELD_RESOLUTION_MS,
      samples: eld.count,
      p50Ms: round(eld.percentile(50) / 1e6),
      p99Ms: round(eld.percentile(99) / 1e6),
      maxMs: round(eld.max / 1e6),
    },
    grpcStatus: structuredClone(grpcStatus),
    rpcLog: structuredClone(rpcLog),
    extra: { ...counters, ...extra },
  };
}

/**
 * Prints `ready` as the first stdout line and serves the control commands. `collect` adds
 * server-specific facts to each stats answer; `stop` closes what is left before the process exits.
 */
export function serveControl(
  ready: Record<string, unknown>,
  hooks: {
    collect?: () => Promise<Record<string, unknown>>;
    /** On exit, before the final stats: let in-flight calls finish, so counts and rows agree. */
    quiesce?: () => Promise<void>;
    stop?: () => Promise<void>;
  } = {},
): void {
  const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  const snapshot = async () => stats(hooks.collect ? await hooks.collect().catch((e: unknown) => ({ collectError: String(e) })) : {});
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (hooks.quiesce) await Promise.race([hooks.quiesce().catch(() => undefined), sleep(15_000)]);
    say(await snapshot());
    await hooks.stop?.().catch(() => undefined);
    process.exit(0);
  };
  say(ready);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const command = line.trim();
    if (command === "reset") {
      eld.disable();
      eld = newHistogram();
      cpuBase = process.cpuUsage();
      cpuSince = performance.now();
      switchesBase = process.resourceUsage().involuntaryContextSwitches;
      for (const table of [grpcStatus, rpcLog]) for (const key of Object.keys(table)) delete table[key];
      for (const key of Object.keys(counters)) counters[key] = 0;
      say({ ok: true });
    } else if (command === "stats") {
      void snapshot().then(say);
    } else if (command === "exit") {
      void stop();
    }
  });
  lines.on("close", () => void stop());
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

/** `--name value` command-line options. */
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}
