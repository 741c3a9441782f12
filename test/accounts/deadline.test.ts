import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import { accountRows, BACKENDS, deadlineHeaders, expectFailure, expectOk, intentRows, startHarness, twitterRequest, uniqueLogin, type Harness } from "./helpers.ts";

const { connectAccount } = AccountService.method;

/**
 * The caller's deadline passes while the provider is still answering. The server gives up a
 * little before the deadline (a third of the time left, 50-500 ms: src/domain/deadline.ts) so that its typed error arrives before the
 * transport's own bare DEADLINE_EXCEEDED: deadlines here leave it a margin a loaded machine
 * still meets (grpc-js answers at the deadline itself; connect-node waits for the handler).
 */
function deadlineMs(wire: Wire, how: "header" | "client"): number {
  // Header-only deadlines on the Connect wires race no client timer: long enough for the call
  // to reach the connector on a loaded machine. The others keep the server's margin (333 ms of 1 s) to beat.
  return how === "header" && wire !== "grpc" ? 2_000 : 1_000;
}

describe.each(BACKENDS)("deadlines on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
    // The first timed-out call of a fresh process loads and compiles the whole give-up path
    // (abort, closing the intent, the typed answer) inside the margin the server keeps back:
    // on a loaded machine it overran every time. Once per wire, unchecked, before the timed tests.
    for (const wire of WIRES) {
      const login = uniqueLogin("warm");
      h.connector.plan(login, { waitMs: 15_000 }, {});
      await connect(wire, login, { headers: deadlineHeaders(wire, 1_000) });
    }
  });
  afterAll(() => h?.close());

  const connect = (wire: Wire, login: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}) =>
    callRpc(h.server, wire, connectAccount, twitterRequest(login), { apiKey: h.server.apiKey, ...options });

  describe.each(WIRES)("over %s", (wire) => {
    // "header": only the server knows the deadline; "client": the caller's own timer runs too, as in real clients.
    it.each(["header", "client"] as const)(
      "answers DEADLINE_EXCEEDED request_timeout mid-connector (deadline by %s), writes nothing, and does not block a retry",
      async (how) => {
        const ms = deadlineMs(wire, how);
        const login = uniqueLogin("slow");
        // A provider far slower than any lag a loaded machine adds to the answer: the bound
        // below tells "answered at the deadline" from "waited for the provider" with seconds to spare.
        h.connector.plan(login, { waitMs: 15_000 }, {});
        const started = Date.now();
        const result = await connect(wire, login, how === "header" ? { headers: deadlineHeaders(wire, ms) } : { timeoutMs: ms });
        expectFailure(result, Code.DeadlineExceeded, "errors/request_timeout");
        expect(Date.now() - started).toBeLessThan(ms + 5_000);

        // The connector was told to stop (its signal aborted), and nothing reached the store.
        const [call] = h.connector.callsFor(login);
        expect(call).toMatchObject({ sawAbort: true, outcome: "aborted" });
        expect(await accountRows(h.raw, `x-${login}`)).toEqual([]);
        const [intent] = await intentRows(h.raw, `user:${login}`);
        expect([intent?.status, intent?.error_kind]).toEqual(["FAILED", "request_timeout"]);

        // Right after: the failed intent is closed, so the identity is free.
        const id = expectOk(await connect(wire, login)).accountId;
        expect((await accountRows(h.raw, `x-${login}`)).map((r) => r.id)).toEqual([id]);
      },
    );
  });

  it("drops the late answer of a connector that ignores the deadline", async () => {
    const login = uniqueLogin("deaf");
    // It answers 8 s in, whatever the deadline: the caller must hear back well before (a 2 s
    // deadline, so the call reaches the connector on a loaded machine, and that machine's lag on top).
    h.connector.plan(login, { waitMs: 8_000, ignoreSignal: true }, {});
    const started = Date.now();
    expectFailure(await connect("connect-json", login, { headers: deadlineHeaders("connect-json", 2_000) }), Code.DeadlineExceeded, "errors/request_timeout");
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(h.connector.callsFor(login)[0]?.outcome, "answered before the connector did").toBeUndefined();

    await h.connector.idle();
    const [call] = h.connector.callsFor(login);
    expect(call).toMatchObject({ sawAbort: true, outcome: "succeeded" });
    // It answered "succeeded" after the caller was told it timed out: nothing may come of that.
    expect(await accountRows(h.raw, `x-${login}`)).toEqual([]);

    const id = expectOk(await connect("grpc", login)).accountId;
    expect((await accountRows(h.raw, `x-${login}`)).map((r) => r.id)).toEqual([id]);
    // It waits out the deaf connector's 8 s.
  }, 30_000);
});
