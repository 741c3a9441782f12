import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";
import { attack, probe } from "./probe.ts";

/**
 * Issue 12, item 3: HTTP/2 rapid reset (streams opened and cancelled at once, CVE-2023-44487).
 * Before the fix, a legitimate call's p95 went to 0.7-5 s on both ports (one event loop). Now
 * each session has a concurrent-stream cap and a reset budget, past which it is sent GOAWAY
 * and closed; the attacker has to reconnect, and legitimate calls keep their latency.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const ATTACK_STREAMS = "30000";
const ATTACK_MS = "4000";

describe("rapid reset, bounded to 30,000 streams or 4 s", () => {
  it.each(["http", "grpc"] as const)("on the %s port: a legitimate call's p95 stays under 500 ms on both ports", async (port) => {
    const url = port === "http" ? server.httpUrl : `http://${server.grpcAddress}`;
    const baseline = await probe(server, "grpc", sleep(1000));
    const linesBefore = server.logs.length;
    const cpuBefore = process.cpuUsage();
    const attacking = attack("rapid-reset", url, ATTACK_STREAMS, ATTACK_MS);
    const [result, grpcProbe, connectProbe] = await Promise.all([attacking, probe(server, "grpc", attacking), probe(server, "connect-json", attacking)]);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMsPer1000 = ((cpu.user + cpu.system) / 1000 / (result.streams as number)) * 1000;
    console.log(`rapid reset on the ${port} port:`, JSON.stringify(result), `server CPU ${cpuMsPer1000.toFixed(0)} ms per 1,000 streams (probes included);`, `probe p95 grpc ${grpcProbe.p95Ms} ms (${grpcProbe.latenciesMs.length} calls), connect ${connectProbe.p95Ms} ms (${connectProbe.latenciesMs.length} calls); without attack ${baseline.p95Ms} ms`);
    expect(grpcProbe.failures).toEqual([]);
    expect(connectProbe.failures).toEqual([]);
    // 500 ms on a quiet machine; on a loaded one (the attacker takes a core of its own) the
    // bound scales with the same probe's latency without an attack, so load does not fail it.
    // Before the fix the HTTP port's attack took the probe's p95 to 2.3 s.
    const bound = Math.max(500, 15 * baseline.p95Ms);
    expect(grpcProbe.p95Ms).toBeLessThan(bound);
    expect(connectProbe.p95Ms).toBeLessThan(bound);
    // The server hung up on the attacker, which had to reconnect.
    expect(result.sessions as number).toBeGreaterThan(1);
    // Cancelled streams never reached an RPC (the HTTP port used to run and log each one).
    const attackCalls = server.logs.slice(linesBefore).filter((l) => l.includes('"msg":"rpc"') && !l.includes('"method":"ListAccounts"')).length;
    expect(attackCalls).toBeLessThan((result.streams as number) / 10);
  }, 40_000);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
