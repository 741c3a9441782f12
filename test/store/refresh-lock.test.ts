import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../src/errors/app-error.ts";
import type { AccountRecord, Store } from "../../src/store/store.ts";
import { backends, type Location } from "./backends.ts";
import { account, intent, sealed, workspace } from "./fixtures.ts";

/** refreshAccountLocked (GetCredentials' refresh): what it writes, on both backends; PostgreSQL's row lock and its bound. */
describe.each(backends)("refreshAccountLocked: $kind", (backend) => {
  let location: Location;
  let store: Store;

  beforeAll(async () => {
    location = await backend.create();
    store = await location.open();
  });
  afterAll(async () => {
    await store?.close();
    await location?.drop();
  });

  async function linked(): Promise<AccountRecord> {
    const ws = workspace();
    await store.createWorkspace(ws);
    const now = new Date();
    const open = intent(ws.id, now, { provider: "OUTLOOK" });
    await store.openIntent(open, now);
    const result = await store.insertAccount(account(open, now, undefined, { provider: "OUTLOOK", authMethod: "outlook" }), open.id, now);
    if (!("inserted" in result)) throw new Error("not inserted");
    return result.inserted;
  }

  it("hands the callback the live account and writes the new secrets and expiry it returns", async () => {
    const acc = await linked();
    const next = sealed("k1", "refreshed");
    const expiry = new Date(Date.now() + 3_600_000);
    const answer = await store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => {
      expect(current?.id).toBe(acc.id);
      return { answer: "done", write: { at: new Date(), secrets: { sealed: next, accessTokenExpiresAt: expiry } } };
    });
    expect(answer).toBe("done");
    expect(await store.getAccount(acc.workspaceId, acc.id)).toMatchObject({ secrets: next, accessTokenExpiresAt: expiry, status: "CONNECTED" });
  });

  it("a status change is written with its account.status_changed event, from the status the callback saw only", async () => {
    const acc = await linked();
    const change = { from: "CONNECTED" as const, to: "CREDENTIALS_EXPIRED" as const, reason: "errors/invalid_credentials" };
    await store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: undefined, write: { at: new Date(), status: change } }));
    expect(await store.getAccount(acc.workspaceId, acc.id)).toMatchObject({ status: "CREDENTIALS_EXPIRED", statusReason: "errors/invalid_credentials" });
    // The same change again finds the account no longer CONNECTED: nothing written, no second event.
    await store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: undefined, write: { at: new Date(), status: change } }));
    const events = (await store.listEvents(acc.workspaceId, 0, 100)).map((e) => [e.type, e.change]);
    expect(events).toEqual([["account.connected", null], ["account.status_changed", change]]);
  });

  it("a callback that throws writes nothing", async () => {
    const acc = await linked();
    await expect(store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => Promise.reject(new Error("provider down")))).rejects.toThrow("provider down");
    expect(await store.getAccount(acc.workspaceId, acc.id)).toEqual(acc);
  });

  it("a deleted account reaches the callback as undefined", async () => {
    const acc = await linked();
    await store.deleteAccount(acc.workspaceId, acc.id, new Date());
    expect(await store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => ({ answer: current }))).toBeUndefined();
  });

  it.runIf(backend.kind === "postgres")("PostgreSQL: a second refresher waits at most its lock timeout for the row, then service_unavailable", async () => {
    const acc = await linked();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const first = store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => {
      locked();
      await held;
      return { answer: "first" };
    });
    await isLocked;
    const second = await store.refreshAccountLocked(acc.workspaceId, acc.id, 50, async () => ({ answer: "second" })).catch((e: unknown) => e);
    release();
    expect(await first).toBe("first");
    expect(isAppError(second) && second.kind).toBe("service_unavailable");
  });
});
