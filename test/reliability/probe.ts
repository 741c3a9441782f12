import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc } from "../support/clients.ts";
import { NODE_BIN } from "../support/process.ts";
import type { TestServer } from "../support/server.ts";

/** A legitimate caller's view while an attack runs: latencies of ListAccounts calls, one after the other. */
export interface ProbeResult {
  latenciesMs: number[];
  failures: string[];
  p95Ms: number;
}

/**
 * Calls ListAccounts in a loop until `until` settles, at least `minCalls` times, as a real
 * client would: over one channel it keeps (native gRPC), or keep-alive HTTP/1.1 (Connect JSON).
 */
export async function probe(server: TestServer, wire: "grpc" | "connect-json", until: Promise<unknown>, minCalls = 5): Promise<ProbeResult> {
  let done = false;
  void until.finally(() => (done = true));
  const channel = wire === "grpc" ? new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure()) : undefined;
  const call = channel ? () => grpcListAccounts(channel, server.apiKey) : () => connectListAccounts(server);
  // One call first, unmeasured: it loads code and opens the connection.
  await call();
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  while (!done || latenciesMs.length + failures.length < minCalls) {
    const started = performance.now();
    const failure = await call();
    if (failure === undefined) latenciesMs.push(performance.now() - started);
    else failures.push(failure);
  }
  channel?.close();
  return { latenciesMs, failures, p95Ms: percentile(latenciesMs, 0.95) };
}

function grpcListAccounts(channel: grpc.Client, apiKey: string): Promise<string | undefined> {
  const metadata = new grpc.Metadata();
  metadata.set("x-api-key", apiKey);
  return new Promise((resolve) => {
    channel.makeUnaryRequest(
      `/${AccountService.typeName}/ListAccounts`,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      new Uint8Array(0),
      metadata,
      { deadline: Date.now() + 10_000 },
      (err) => resolve(err ? `${err.code}: ${err.details}` : undefined),
    );
  });
}

async function connectListAccounts(server: TestServer): Promise<string | undefined> {
  const r = await callRpc(server, "connect-json", AccountService.method.listAccounts, {}, { apiKey: server.apiKey, timeoutMs: 10_000 });
  return r.ok ? undefined : `${r.error.code}: ${r.error.message}`;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

const attackerScript = fileURLToPath(new URL("./attacker.ts", import.meta.url));

/** Runs attacker.ts in a child process; resolves with the JSON line it prints. */
export function attack(...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(NODE_BIN, ["--disable-warning=ExperimentalWarning", attackerScript, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`attacker failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>);
    });
  });
}
