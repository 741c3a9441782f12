import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { EventType } from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { Code } from "@connectrpc/connect";
import { failureFromConnectError } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { clientsOf, follow, link, switchConnector } from "./support.ts";

/**
 * The outbox and the resumable stream, through the real server on real ports, on both stores:
 * account.connected and account.deleted are written with the change, the stream replays them
 * from a cursor and then follows live, and a consumer that was away for 100 events gets
 * exactly those 100 when it comes back with its cursor.
 */
describe.each(["sqlite", "postgres"] as const)("event stream on %s", (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ backend, connectors: [switchConnector()], env: { EVENTS_POLL_MS: "50", ACCOUNT_CHECK_POLL_MS: "0", WEBHOOK_POLL_MS: "0" } });
  });
  afterAll(() => server.close());

  it("announces connect and delete once each, in order, with the account's new status fields", async () => {
    const follower = follow(server);
    const id = await link(server, `stream-${backend}-1`);
    const { accounts, headers } = clientsOf(server);
    const got = (await accounts.getAccount({ accountId: id }, { headers })).account!;
    expect(got.status).toBe(AccountStatus.CONNECTED);
    expect(got.statusReason).toBe("");
    expect(got.statusChangeTime).toBeDefined();
    await accounts.deleteAccount({ accountId: id }, { headers });
    await accounts.deleteAccount({ accountId: id }, { headers }); // idempotent: no second event

    const events = await follower.until(2);
    expect(events.map((e) => [e.type, e.accountId])).toEqual([
      [EventType.ACCOUNT_CONNECTED, id],
      [EventType.ACCOUNT_DELETED, id],
    ]);
    expect(events[0]!.id).toMatch(/^evt_[0-9A-Z]{26}$/);
    // The other workspace sees none of it.
    const other = follow(server, "", server.otherApiKey);
    const own = await link(server, `stream-${backend}-2`);
    await follower.until(3);
    expect(follower.events[2]!.accountId).toBe(own);
    expect(other.events).toEqual([]);
    await Promise.all([follower.stop(), other.stop()]);
    expect(follower.events).toHaveLength(3);
  });

  it("a consumer away for 100 events gets exactly those 100, in order, when it resumes with its cursor", async () => {
    const before = follow(server);
    const first = await link(server, `resume-${backend}-0`);
    await eventuallyHas(before, first);
    const cursor = before.events.at(-1)!.cursor;
    await before.stop();

    // 100 events while it is away: 50 accounts linked, then deleted.
    const { accounts, headers } = clientsOf(server);
    const ids: string[] = [];
    for (let i = 1; i <= 50; i++) ids.push(await link(server, `resume-${backend}-${i}`));
    for (const id of ids) await accounts.deleteAccount({ accountId: id }, { headers });

    const after = follow(server, cursor);
    const missed = await after.until(100);
    expect(missed.map((e) => [e.type, e.accountId])).toEqual([
      ...ids.map((id) => [EventType.ACCOUNT_CONNECTED, id]),
      ...ids.map((id) => [EventType.ACCOUNT_DELETED, id]),
    ]);
    // Then live, and nothing in between: the next event is the 101st.
    const live = await link(server, `resume-${backend}-live`);
    const all = await after.until(101);
    expect(all[100]!.accountId).toBe(live);
    await after.stop();
    expect(after.events).toHaveLength(101);
    expect(new Set(after.events.map((e) => e.id)).size).toBe(101);
  });

  it("refuses a cursor it did not issue, naming the field", async () => {
    const { events, headers } = clientsOf(server);
    const stream = events.streamEvents({ cursor: "not-a-cursor" }, { headers });
    const failure = await stream[Symbol.asyncIterator]().next().then(() => undefined, failureFromConnectError);
    expect(failure?.code).toBe(Code.InvalidArgument);
    expect(failure?.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
    expect(failure?.badRequest?.fieldViolations.map((v) => v.field)).toEqual(["cursor"]);
  });
});

async function eventuallyHas(follower: ReturnType<typeof follow>, accountId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!follower.events.some((e) => e.accountId === accountId)) {
    if (Date.now() > deadline) throw new Error(`no event for ${accountId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("event stream on drain", () => {
  it("ends open streams with UNAVAILABLE so consumers resume elsewhere with their cursor", async () => {
    const server = await startTestServer({ connectors: [switchConnector()], env: { EVENTS_POLL_MS: "50", ACCOUNT_CHECK_POLL_MS: "0", WEBHOOK_POLL_MS: "0" } });
    try {
      const { events, headers } = clientsOf(server);
      const iterator = events.streamEvents({ cursor: "" }, { headers })[Symbol.asyncIterator]();
      const first = iterator.next();
      await link(server, "drain-1");
      expect((await first).done).toBe(false); // the stream is open and live
      const next = iterator.next().then(() => undefined, failureFromConnectError);
      const started = Date.now();
      // A grace far above the bound below: a stream that held the drain would cost all of it.
      await server.server.drain(30_000);
      const failure = await next;
      expect(failure?.code).toBe(Code.Unavailable);
      expect(failure?.errorInfo?.metadata.type).toBe("errors/service_unavailable");
      expect(Date.now() - started).toBeLessThan(15_000); // the open stream did not hold the drain
    } finally {
      await server.store.close();
    }
  });
});
