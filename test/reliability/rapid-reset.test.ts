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
const ATTACK_MS = "6000";

describe("rapid reset, bounded to 30,000 streams or 6 s", () => {
  it.each(["http", "grpc"] as const)("on the %s port: a legitimate call's p95 stays under 500 ms on both ports", async (port) => {
    const url = port === "http" ? server.httpUrl : `http://${server.grpcAddress}`;
    const baseline = await probe(server, "grpc", sleep(1000));
    const attacking = attack("rapid-reset", url, ATTACK_STREAMS, ATTACK_MS);
    const [result, grpcProbe, connectProbe] = await Promise.all([attacking, probe(server, "grpc", attacking), probe(server, "connect-json", attacking)]);
    console.log(`rapid reset on the ${port} port:`, JSON.stringify(result), `probe p95 grpc ${grpcProbe.p95Ms} ms (${grpcProbe.latenciesMs.length} calls), connect ${connectProbe.p95Ms} ms (${connectProbe.latenciesMs.length} calls); without attack ${baseline.p95Ms} ms`);
    expect(grpcProbe.failures).toEqual([]);
    expect(connectProbe.failures).toEqual([]);
    // Compared with the same probe without an attack too, so that a busy machine does not fail it.
    const bound = Math.max(500, 4 * baseline.p95Ms);
    expect(grpcProbe.p95Ms).toBeLessThan(bound);
    expect(connectProbe.p95Ms).toBeLessThan(bound);
    // The server hung up on the attacker, which had to reconnect.
    expect(result.sessions as number).toBeGreaterThan(1);
  }, 40_000);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
