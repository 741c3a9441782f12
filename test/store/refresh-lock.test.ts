import { describe, expect, it } from "vitest";
import { isAppError } from "../../src/errors/app-error.ts";
import type { AccountRecord } from "../../src/store/store.ts";
import { backends, storeForSuite } from "./backends.ts";
import { account, intent, sealed, workspace } from "./fixtures.ts";

/** refreshAccountLocked (GetCredentials' refresh): what it writes, on both backends; PostgreSQL's row lock and its bound. */
describe.each(backends)("refreshAccountLocked: $kind", (backend) => {
  const suite = storeForSuite(backend);

  async function linked(): Promise<AccountRecord> {
    const ws = workspace();
    await suite.store.createWorkspace(ws);
    const now = new Date();
    const open = intent(ws.id, now, { provider: "OUTLOOK" });
    await suite.store.openIntent(open, now);
    const result = await suite.store.insertAccount(account(open, now, undefined, { provider: "OUTLOOK", authMethod: "outlook" }), open.id, now);
    if (!("inserted" in result)) throw new Error("not inserted");
    return result.inserted;
  }

  it("hands the callback the live account and writes the new secrets and expiry it returns", async () => {
    const acc = await linked();
    const next = sealed("k1", "refreshed");
    const expiry = new Date(Date.now() + 3_600_000);
    const grantedScopes = ["Mail.ReadWrite", "User.Read"];
    const answer = await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => {
      expect(current?.id).toBe(acc.id);
      return { answer: "done", write: { at: new Date(), expected: acc.secrets!, secrets: { sealed: next, accessTokenExpiresAt: expiry, grantedScopes } } };
    });
    expect(answer).toBe("done");
    expect(await suite.store.getAccount(acc.workspaceId, acc.id)).toMatchObject({ secrets: next, accessTokenExpiresAt: expiry, grantedScopes, status: "CONNECTED" });
    // A grant that names no scopes keeps the stored ones.
    const again = sealed("k1", "refreshed-again");
    await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: "done", write: { at: new Date(), expected: next, secrets: { sealed: again, accessTokenExpiresAt: expiry, grantedScopes: [] } } }));
    expect(await suite.store.getAccount(acc.workspaceId, acc.id)).toMatchObject({ secrets: again, grantedScopes });
  });

  it("a status change is written with its account.status_changed event, from the status the callback saw only", async () => {
    const acc = await linked();
    const change = { from: "CONNECTED" as const, to: "CREDENTIALS_EXPIRED" as const, reason: "errors/invalid_credentials" };
    await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: undefined, write: { at: new Date(), expected: acc.secrets!, status: change } }));
    expect(await suite.store.getAccount(acc.workspaceId, acc.id)).toMatchObject({ status: "CREDENTIALS_EXPIRED", statusReason: "errors/invalid_credentials" });
    // The same change again finds the account no longer CONNECTED: nothing written, no second event.
    await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: undefined, write: { at: new Date(), expected: acc.secrets!, status: change } }));
    const events = (await suite.store.listEvents(acc.workspaceId, 0, 100)).map((e) => [e.type, e.change]);
    expect(events).toEqual([["account.connected", null], ["account.status_changed", change]]);
  });

  it("compare-and-set: a write from secrets that are no longer the account's (replaced meanwhile) loses whole, with operation_canceled", async () => {
    const acc = await linked();
    const refreshed = { sealed: sealed("k1", "refreshed-from-stale"), accessTokenExpiresAt: new Date(Date.now() + 3_600_000) };
    const change = { from: "CONNECTED" as const, to: "CREDENTIALS_EXPIRED" as const, reason: "errors/invalid_credentials" };
    for (const write of [{ secrets: refreshed }, { status: change }]) {
      const stale = await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => ({ answer: "stale", write: { at: new Date(), expected: sealed("k1", "what-the-refresh-read"), ...write } })).catch((e: unknown) => e);
      expect(isAppError(stale) && stale.kind).toBe("operation_canceled");
      expect(await suite.store.getAccount(acc.workspaceId, acc.id)).toEqual(acc);
    }
    expect((await suite.store.listEvents(acc.workspaceId, 0, 100)).map((e) => e.type)).toEqual(["account.connected"]);
  });

  it.runIf(backend.kind === "sqlite")("SQLite (read and write apart): credentials replaced between the refresh's read and its write stay; the refreshed ones are not stored", async () => {
    const acc = await linked();
    const replaced = sealed(acc.secrets!.keyId, "reconnected");
    const stale = await suite.store
      .refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => {
        // Another writer of the blob commits while the provider answers (a reconnection, a key rotation).
        expect(await suite.store.replaceSecret({ table: "accounts", id: acc.id, workspaceId: acc.workspaceId, secrets: current!.secrets! }, replaced)).toBe(true);
        return { answer: "stale", write: { at: new Date(), expected: current!.secrets!, secrets: { sealed: sealed("k1", "refreshed"), accessTokenExpiresAt: null } } };
      })
      .catch((e: unknown) => e);
    expect(isAppError(stale) && stale.kind).toBe("operation_canceled");
    expect((await suite.store.getAccount(acc.workspaceId, acc.id))!.secrets).toEqual(replaced);
  });

  it.runIf(backend.kind === "postgres")("PostgreSQL: a compare-and-set writer of the credentials (key rotation) cannot slip in under the refresh's row lock: it finds the refreshed blob and changes nothing", async () => {
    const acc = await linked();
    const replaced = sealed(acc.secrets!.keyId, "reconnected");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const refreshed = sealed("k1", "refreshed");
    const refresh = suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => {
      locked();
      await held;
      return { answer: "refreshed", write: { at: new Date(), expected: current!.secrets!, secrets: { sealed: refreshed, accessTokenExpiresAt: null } } };
    });
    await isLocked;
    // Compare-and-set against the blob read before the refresh: it must not slip in under the lock.
    const writer = suite.store.replaceSecret({ table: "accounts", id: acc.id, workspaceId: acc.workspaceId, secrets: acc.secrets! }, replaced);
    release();
    expect(await refresh).toBe("refreshed");
    // Waited for the lock, then found the blob it expected gone: the refreshed secrets stay, nothing is lost silently.
    expect(await writer).toBe(false);
    expect((await suite.store.getAccount(acc.workspaceId, acc.id))!.secrets).toEqual(refreshed);
  });

  it("a callback that throws writes nothing", async () => {
    const acc = await linked();
    await expect(suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => Promise.reject(new Error("provider down")))).rejects.toThrow("provider down");
    expect(await suite.store.getAccount(acc.workspaceId, acc.id)).toEqual(acc);
  });

  it("a deleted account reaches the callback as undefined", async () => {
    const acc = await linked();
    await suite.store.deleteAccount(acc.workspaceId, acc.id, new Date());
    expect(await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async (current) => ({ answer: current }))).toBeUndefined();
  });

  it.runIf(backend.kind === "postgres")("PostgreSQL: a second refresher waits at most its lock timeout for the row, then service_unavailable", async () => {
    const acc = await linked();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const first = suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 5_000, async () => {
      locked();
      await held;
      return { answer: "first" };
    });
    await isLocked;
    const second = await suite.store.refreshAccountLocked(acc.workspaceId, acc.id, 50, async () => ({ answer: "second" })).catch((e: unknown) => e);
    release();
    expect(await first).toBe("first");
    expect(isAppError(second) && second.kind).toBe("service_unavailable");
  });
});
