import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import { healthCheck, watchHealth } from "./health.ts";

/**
 * server.drain(): health goes NOT_SERVING, new connections are refused, and calls already in
 * flight (a slow connector) finish normally before drain resolves.
 */

let server: TestServer;
let connector: ScriptedConnector;
beforeAll(async () => {
  connector = scriptedConnector(["twitter"]);
  server = await startTestServer({ connectors: [connector] });
});
afterAll(() => server.close());

describe("drain with calls in flight", () => {
  it("lets a 500 ms call on every wire finish OK, then resolves; health NOT_SERVING; new calls refused", async () => {
    const watch = watchHealth(server.grpcAddress);
    await watch.seen("SERVING");

    const t0 = Date.now();
    const calls = WIRES.map((wire) =>
      callRpc(server, wire, AccountService.method.connectAccount, { variant: { case: "twitter", value: { username: `drain-${wire}`, email: "anna@acme.com", password: "sleep:500" } } }, { apiKey: server.apiKey }).then(
        (r) => ({ wire, r, at: Date.now() }),
      ),
    );
    // Wait until every call is inside the connector.
    while (connector.calls.filter((c) => c.command === "sleep:500").length < WIRES.length) await new Promise((r) => setTimeout(r, 5));

    const drained = server.server.drain(5000).then(() => Date.now());
    await watch.seen("NOT_SERVING");
    watch.cancel();

    const results = await Promise.all(calls);
    const drainedAt = await drained;
    for (const { wire, r, at } of results) {
      expect(r.ok, `${wire}: ${r.ok ? "" : r.error.message}`).toBe(true);
      if (r.ok) expect(r.response.accountId).toMatch(/^acc_[0-9A-Z]{26}$/);
      expect(at - t0).toBeGreaterThanOrEqual(450);
      expect(drainedAt).toBeGreaterThanOrEqual(at);
    }
    expect(drainedAt - t0).toBeLessThan(3000);
    for (const call of connector.calls.filter((c) => c.command === "sleep:500")) {
      expect(call.outcome).toBe("ok");
      expect(call.signalAborted).toBe(false);
    }

    // After the drain nobody answers: the gRPC port refuses, the HTTP port too.
    expect(await healthCheck(server.grpcAddress)).toBe(14);
    const late = await callRpc(server, "connect-json", AccountService.method.listAccounts, {}, { apiKey: server.apiKey }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(Error);
  });
});

describe("drain with a health watcher that never hangs up", () => {
  it("ends the Watch stream (NOT_SERVING, then OK) instead of waiting out the grace period", async () => {
    const own = await startTestServer();
    try {
      const watch = watchHealth(own.grpcAddress);
      await watch.seen("SERVING");
      const t0 = Date.now();
      // A grace period far longer than the test: the drain must not need it.
      await own.server.drain(60_000);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(watch.statuses).toEqual(["SERVING", "NOT_SERVING"]);
      expect(await watch.ended).toBe(0);
    } finally {
      await own.close();
    }
  });
});
