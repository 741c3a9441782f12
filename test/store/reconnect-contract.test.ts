import { describe, expect, it } from "vitest";
import type { AccountRecord, IntentRecord } from "../../src/store/store.ts";
import { backends, storeForSuite } from "./backends.ts";
import { account, intent, minutesFrom, sealed, workspace } from "./fixtures.ts";

/**
 * The store's half of ReconnectAccount on both backends: the account is RECONNECTING exactly
 * while an intent for it is open, and every way that intent ends (reconnected, failed,
 * canceled, expired, swept) leaves the account as it should be, with its events.
 */
describe.each(backends)("Store reconnect contract: $kind", (backend) => {
  const suite = storeForSuite(backend);

  /** A workspace with a live account whose status is `status` (reason errors/invalid_credentials when expired). */
  async function linked(now: Date, status: AccountRecord["status"] = "CREDENTIALS_EXPIRED"): Promise<AccountRecord> {
    const ws = workspace();
    await suite.store.createWorkspace(ws);
    const open = await suite.store.openIntent(intent(ws.id, now), now);
    if (!("opened" in open)) throw new Error("expected the intent to open");
    const inserted = await suite.store.insertAccount(account(open.opened, now), open.opened.id, now);
    if (!("inserted" in inserted)) throw new Error("expected the account");
    if (status !== "CONNECTED") {
      const reason = status === "CREDENTIALS_EXPIRED" ? "errors/invalid_credentials" : null;
      await suite.store.recordCheck(ws.id, inserted.inserted.id, "CONNECTED", { status, reason, failures: 0, nextCheckAt: minutesFrom(now, 60) }, now);
    }
    return (await suite.store.getAccount(ws.id, inserted.inserted.id))!;
  }

  /** A reconnection's intent for `target`, as the engine builds it (the reconnect marker in its flow state). */
  const reconnectIntent = (target: AccountRecord, now: Date, fields: Partial<IntentRecord> = {}) =>
    intent(target.workspaceId, now, { accountId: target.id, identityKey: `account:${target.id}`, state: { v: 1, flow: "one_shot", reconnect: true }, ...fields });

  async function opened(target: AccountRecord, now: Date, fields: Partial<IntentRecord> = {}): Promise<IntentRecord> {
    const result = await suite.store.openReconnectIntent(reconnectIntent(target, now, fields), now);
    if (!("opened" in result)) throw new Error(`expected the intent to open: ${JSON.stringify(result)}`);
    return result.opened;
  }

  const statusOf = async (target: AccountRecord) => {
    const a = (await suite.store.getAccount(target.workspaceId, target.id))!;
    return [a.status, a.statusReason];
  };
  const changes = async (target: AccountRecord) =>
    (await suite.store.listEvents(target.workspaceId, 0, 100)).filter((e) => e.accountId === target.id).map((e) => (e.change ? `${e.change.from}>${e.change.to}` : e.type));

  it("opening marks the account RECONNECTING with an event; a second one is inProgress; an unknown or deleted account is accountGone", async () => {
    const now = new Date();
    const target = await linked(now);
    const first = await opened(target, now);
    expect(first.accountId).toBe(target.id);
    expect(await statusOf(target)).toEqual(["RECONNECTING", "errors/invalid_credentials"]);
    const second = await suite.store.openReconnectIntent(reconnectIntent(target, now), now);
    expect(second).toEqual({ inProgress: first });
    expect(await changes(target)).toEqual(["account.connected", "CONNECTED>CREDENTIALS_EXPIRED", "CREDENTIALS_EXPIRED>RECONNECTING"]);

    expect(await suite.store.openReconnectIntent(reconnectIntent({ ...target, id: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR" }, now), now)).toEqual({ accountGone: true });
    const deleted = await linked(now);
    await suite.store.deleteAccount(deleted.workspaceId, deleted.id, now);
    expect(await suite.store.openReconnectIntent(reconnectIntent(deleted, now), now)).toEqual({ accountGone: true });
  });

  it("a failed, canceled or closed-by-restart intent puts the status back only once no reconnection is open", async () => {
    const now = new Date();
    const target = await linked(now);
    const first = await opened(target, now);
    // Restart: the first is canceled and the second opened in one transaction; the account stays RECONNECTING.
    const restarted = await suite.store.openReconnectIntent(reconnectIntent(target, now), now, true);
    expect("opened" in restarted).toBe(true);
    expect((await suite.store.getIntent(target.workspaceId, first.id))!.status).toBe("CANCELED");
    expect(await statusOf(target)).toEqual(["RECONNECTING", "errors/invalid_credentials"]);
    const second = (restarted as { opened: IntentRecord }).opened;
    const later = minutesFrom(now, 1);
    await suite.store.updateOpenIntent(second.id, { status: "FAILED", errorKind: "invalid_credentials", closedAt: later, updatedAt: later, state: second.state }, second.revision);
    expect(await statusOf(target)).toEqual(["CREDENTIALS_EXPIRED", "errors/invalid_credentials"]);
    expect((await changes(target)).slice(2)).toEqual(["CREDENTIALS_EXPIRED>RECONNECTING", "RECONNECTING>CREDENTIALS_EXPIRED"]);
  });

  it("an expired reconnection is swept and the account goes back; the next open expires a stale one and keeps the status before", async () => {
    const now = new Date();
    const target = await linked(now, "CONNECTED");
    const stale = await opened(target, now, { expiresAt: minutesFrom(now, 1) });
    expect(await statusOf(target)).toEqual(["RECONNECTING", null]);
    // The next open after the expiry takes the stale one's place: still RECONNECTING, from CONNECTED.
    const after = minutesFrom(now, 2);
    const next = await suite.store.openReconnectIntent(reconnectIntent(target, after, { expiresAt: minutesFrom(after, 1) }), after);
    expect("opened" in next).toBe(true);
    expect((await suite.store.getIntent(target.workspaceId, stale.id))!.status).toBe("EXPIRED");
    expect(await statusOf(target)).toEqual(["RECONNECTING", null]);
    // Nobody tracks it: the sweep closes it, and the account is CONNECTED again.
    const swept = await suite.store.sweepExpiredIntents(minutesFrom(after, 5), minutesFrom(after, 5), 1000);
    expect(swept.map((i) => i.id)).toContain((next as { opened: IntentRecord }).opened.id);
    expect(await statusOf(target)).toEqual(["CONNECTED", null]);
    expect(await changes(target)).toEqual(["account.connected", "CONNECTED>RECONNECTING", "RECONNECTING>CONNECTED"]);
  });

  it("an open that expires a stale reconnection but opens nothing (the cap) puts the account back, through openReconnectIntent and openIntent alike", async () => {
    const now = new Date();
    for (const open of [suite.store.openReconnectIntent.bind(suite.store), suite.store.openIntent.bind(suite.store)]) {
      const target = await linked(now, "CONNECTED");
      // Its process died before the engine wrote a flow state: the identity key alone says it is a reconnection.
      const stale = await opened(target, now, { expiresAt: minutesFrom(now, 1), state: null });
      expect(await statusOf(target)).toEqual(["RECONNECTING", null]);
      const after = minutesFrom(now, 2);
      const other = await suite.store.openIntent(intent(target.workspaceId, after), after);
      expect("opened" in other).toBe(true);
      // One open intent in the workspace is its cap: the stale one expires in the same transaction, nothing opens.
      expect(await open(reconnectIntent(target, after, { expiresAt: minutesFrom(after, 1) }), after, false, 1)).toEqual({ tooMany: { limit: 1 } });
      expect((await suite.store.getIntent(target.workspaceId, stale.id))!.status).toBe("EXPIRED");
      expect(await statusOf(target)).toEqual(["CONNECTED", null]);
      expect(await changes(target)).toEqual(["account.connected", "CONNECTED>RECONNECTING", "RECONNECTING>CONNECTED"]);
    }
  });

  it("reconnectAccount replaces credentials, options and identity details in one transaction with the intent's close; another identity or a deleted account write nothing", async () => {
    const now = new Date();
    const target = await linked(now);
    const open = await opened(target, now);
    const later = minutesFrom(now, 1);
    const blob = sealed("k2");
    const replacement = (fields: Partial<AccountRecord> = {}): AccountRecord => ({
      ...target,
      identity: { ...target.identity, displayName: "Ada L." },
      options: { country: "DE" },
      secrets: blob,
      status: "CONNECTED",
      createdAt: later,
      updatedAt: later,
      ...fields,
    });

    const before = (await suite.store.getAccount(target.workspaceId, target.id))!;
    expect(await suite.store.reconnectAccount(replacement({ identity: { providerUserId: "someone-else" } }), open.id, later)).toEqual({ otherIdentity: true });
    expect(await suite.store.getAccount(target.workspaceId, target.id)).toEqual(before);
    expect((await suite.store.getIntent(target.workspaceId, open.id))!.status).toBe("OPEN");

    const done = await suite.store.reconnectAccount(replacement(), open.id, later);
    if (!("reconnected" in done)) throw new Error(`expected the account reconnected: ${JSON.stringify(done)}`);
    expect(done.reconnected).toMatchObject({ id: target.id, status: "CONNECTED", statusReason: null, createdAt: target.createdAt, updatedAt: later, options: { country: "DE" }, secrets: blob });
    expect(done.reconnected.identity).toEqual({ ...target.identity, displayName: "Ada L." });
    expect(await suite.store.getAccount(target.workspaceId, target.id)).toEqual(done.reconnected);
    expect((await suite.store.getIntent(target.workspaceId, open.id))!.status).toBe("CONNECTED");
    expect((await changes(target)).slice(2)).toEqual(["CREDENTIALS_EXPIRED>RECONNECTING", "RECONNECTING>CONNECTED", "account.reconnected"]);
    // The intent is closed now: a second success is intentGone.
    expect(await suite.store.reconnectAccount(replacement(), open.id, later)).toMatchObject({ intentGone: { id: open.id, status: "CONNECTED" } });

    // Deleted while the reconnection waited: nothing written, the intent stays open for the engine to fail.
    const again = await opened(target, later);
    await suite.store.deleteAccount(target.workspaceId, target.id, later);
    expect(await suite.store.reconnectAccount(replacement(), again.id, later)).toEqual({ accountGone: true });
    expect((await suite.store.getAccount(target.workspaceId, target.id))!).toMatchObject({ status: "DELETED", secrets: null });
    expect((await suite.store.getIntent(target.workspaceId, again.id))!.status).toBe("OPEN");
  });
});
