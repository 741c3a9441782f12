import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/app-error.ts";
import type { AccountRecord, AccountSummary, IntentRecord } from "../../src/store/store.ts";
import { backends, storeForSuite } from "./backends.ts";
import { account, intent, minutesFrom, newId, sealed, workspace } from "./fixtures.ts";

describe.each(backends)("Store contract: $kind", (backend) => {
  const suite = storeForSuite(backend);

  async function newWorkspace(): Promise<string> {
    const ws = workspace();
    await suite.store.createWorkspace(ws);
    return ws.id;
  }

  async function openedIntent(workspaceId: string, now: Date, fields: Partial<IntentRecord> = {}): Promise<IntentRecord> {
    const result = await suite.store.openIntent(intent(workspaceId, now, fields), now);
    if (!("opened" in result)) throw new Error("expected the intent to open");
    return result.opened;
  }

  async function connected(workspaceId: string, now: Date, providerUserId?: string, fields: Partial<AccountRecord> = {}): Promise<AccountRecord> {
    const open = await openedIntent(workspaceId, now);
    const result = await suite.store.insertAccount(account(open, now, providerUserId, fields), open.id, now);
    if (!("inserted" in result)) throw new Error("expected the account to be inserted");
    return result.inserted;
  }

  const summary = ({ secrets: _secrets, ...rest }: AccountRecord): AccountSummary => rest;

  it("reports its kind", () => {
    expect(suite.store.kind).toBe(backend.kind);
  });

  describe("workspaces", () => {
    it("creates, finds by name and lists", async () => {
      const ws = workspace();
      await suite.store.createWorkspace(ws);
      expect((await suite.store.listWorkspaces()).find((w) => w.id === ws.id)).toEqual(ws);
      expect(await suite.store.findWorkspaceByName(ws.name)).toEqual(ws);
      expect(await suite.store.listWorkspaces()).toContainEqual(ws);
      expect((await suite.store.listWorkspaces()).find((w) => w.id === "ws_missing")).toBeUndefined();
      expect(await suite.store.findWorkspaceByName("no such workspace")).toBeUndefined();
    });

    it("refuses a second workspace with the same name", async () => {
      const ws = workspace();
      await suite.store.createWorkspace(ws);
      const twin = { ...workspace(), name: ws.name };
      await expect(suite.store.createWorkspace(twin)).rejects.toMatchObject({ kind: "already_exists" });
      expect((await suite.store.listWorkspaces()).find((w) => w.id === twin.id)).toBeUndefined();
    });
  });

  describe("API keys", () => {
    it("creates, gets (scopes included), lists per workspace and revokes once", async () => {
      const wsA = await newWorkspace();
      const wsB = await newWorkspace();
      const now = new Date();
      const keyA = { id: newId("key"), workspaceId: wsA, secretHash: Buffer.alloc(32, 7), label: "ci", scopes: ["accounts:read", "credentials:read"], createdAt: now, revokedAt: null };
      const keyB = { ...keyA, id: newId("key"), workspaceId: wsB, scopes: ["events:read"] };
      await suite.store.createApiKey(keyA);
      await suite.store.createApiKey(keyB);

      expect(await suite.store.getApiKey(keyA.id)).toEqual(keyA);
      expect(await suite.store.listApiKeys(wsA)).toEqual([keyA]);
      expect(await suite.store.listApiKeys()).toEqual(expect.arrayContaining([keyA, keyB]));

      const at = minutesFrom(now, 1);
      expect(await suite.store.revokeApiKey(keyA.id, at)).toBe(true);
      expect(await suite.store.revokeApiKey(keyA.id, minutesFrom(now, 2))).toBe(false);
      expect(await suite.store.revokeApiKey(newId("key"), at)).toBe(false);
      expect(await suite.store.getApiKey(keyA.id)).toEqual({ ...keyA, revokedAt: at });
      expect(await suite.store.getApiKey(keyB.id)).toEqual(keyB);
    });

    it("replaces an active key's scopes; not a revoked or unknown key's", async () => {
      const ws = await newWorkspace();
      const key = { id: newId("key"), workspaceId: ws, secretHash: Buffer.alloc(32, 1), label: "", scopes: ["accounts:read"], createdAt: new Date(), revokedAt: null };
      await suite.store.createApiKey(key);
      expect(await suite.store.setApiKeyScopes(key.id, ["accounts:read", "credentials:read"])).toBe(true);
      expect((await suite.store.getApiKey(key.id))?.scopes).toEqual(["accounts:read", "credentials:read"]);
      expect(await suite.store.setApiKeyScopes(newId("key"), ["accounts:read"])).toBe(false);
      await suite.store.revokeApiKey(key.id, new Date());
      expect(await suite.store.setApiKeyScopes(key.id, ["accounts:write"])).toBe(false);
      expect((await suite.store.getApiKey(key.id))?.scopes).toEqual(["accounts:read", "credentials:read"]);
    });
  });

  describe("openIntent", () => {
    it("opens an intent that can be read back by id and by account id", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const record = intent(ws, now, { state: { step: "2fa", hint: ["sms"] }, secrets: sealed("k1") });
      expect(await suite.store.openIntent(record, now)).toEqual({ opened: record });
      expect(await suite.store.getIntent(ws, record.id)).toEqual(record);
      expect(await suite.store.getIntentByAccountId(ws, record.accountId)).toEqual(record);
    });

    it("answers inProgress while another intent for the identity is open", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const first = await openedIntent(ws, now);
      const second = intent(ws, now, { identityKey: first.identityKey });
      expect(await suite.store.openIntent(second, minutesFrom(now, 1))).toEqual({ inProgress: first });
      expect(await suite.store.getIntent(ws, second.id)).toBeUndefined();
    });

    it("treats the same identity in another provider or workspace as unrelated", async () => {
      const ws = await newWorkspace();
      const other = await newWorkspace();
      const now = new Date();
      const first = await openedIntent(ws, now);
      expect(await suite.store.openIntent(intent(ws, now, { identityKey: first.identityKey, provider: "LINKEDIN" }), now)).toHaveProperty("opened");
      expect(await suite.store.openIntent(intent(other, now, { identityKey: first.identityKey }), now)).toHaveProperty("opened");
    });

    it("expires a stale open intent and takes its place", async () => {
      const ws = await newWorkspace();
      const start = new Date();
      const stale = await openedIntent(ws, start);
      const now = stale.expiresAt; // expiresAt <= now counts as expired
      const next = intent(ws, now, { identityKey: stale.identityKey });
      expect(await suite.store.openIntent(next, now)).toEqual({ opened: next });
      expect(await suite.store.getIntent(ws, stale.id)).toEqual({ ...stale, status: "EXPIRED", closedAt: now, updatedAt: now, revision: stale.revision + 1 });
    });

    it("with restart, cancels the live intent and opens the new one", async () => {
      const ws = await newWorkspace();
      const start = new Date();
      const live = await openedIntent(ws, start, { secrets: sealed("k1") });
      const now = minutesFrom(start, 1);
      const next = intent(ws, now, { identityKey: live.identityKey });
      expect(await suite.store.openIntent(next, now, true)).toEqual({ opened: next });
      expect(await suite.store.getIntent(ws, live.id)).toEqual({ ...live, status: "CANCELED", closedAt: now, updatedAt: now, secrets: null, revision: live.revision + 1 });
    });

    it("opens exactly one of 50 concurrent intents for one identity", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const identityKey = `race-${newId("id")}`;
      const results = await Promise.all(Array.from({ length: 50 }, () => suite.store.openIntent(intent(ws, now, { identityKey }), now)));
      const opened = results.flatMap((r) => ("opened" in r ? [r.opened] : []));
      expect(opened).toHaveLength(1);
      for (const r of results) {
        expect("opened" in r ? r.opened.id : "inProgress" in r ? r.inProgress.id : undefined).toBe(opened[0]!.id);
      }
    });
  });

  describe("intent updates", () => {
    it("patches an open intent and refuses once it is closed", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const open = await openedIntent(ws, now);
      const later = minutesFrom(now, 1);
      const patch = { status: "CHECKPOINT" as const, state: { checkpoint: "OTP" }, secrets: sealed("k1"), expiresAt: minutesFrom(now, 20), updatedAt: later };
      const patched = await suite.store.updateOpenIntent(open.id, patch);
      expect(patched).toEqual({ ...open, ...patch, revision: open.revision + 1 });
      expect(await suite.store.updateOpenIntent(open.id, {})).toEqual(patched);

      await suite.store.updateOpenIntent(open.id, { status: "FAILED", closedAt: later, updatedAt: later, errorKind: "invalid_credentials" });
      const closed = { ...patched, status: "FAILED", closedAt: later, updatedAt: later, errorKind: "invalid_credentials", secrets: null, revision: patched!.revision + 1 };
      expect(await suite.store.getIntent(ws, open.id)).toEqual(closed);
      expect(await suite.store.updateOpenIntent(open.id, { state: { checkpoint: "late" } })).toBeUndefined();

      // Closing again is a no-op.
      const at = minutesFrom(now, 5);
      expect(await suite.store.updateOpenIntent(open.id, { status: "CANCELED", closedAt: at, updatedAt: at })).toBeUndefined();
      expect(await suite.store.getIntent(ws, open.id)).toEqual(closed);
    });

    it("finds the newest intent for an account id", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const first = await openedIntent(ws, now);
      await suite.store.updateOpenIntent(first.id, { status: "FAILED", closedAt: now, updatedAt: now, errorKind: "provider_error" });
      const second = await openedIntent(ws, now, { accountId: first.accountId, identityKey: first.identityKey });
      expect(await suite.store.getIntentByAccountId(ws, first.accountId)).toEqual(second);
    });
  });

  describe("insertAccount", () => {
    it("inserts the account and closes the intent as CONNECTED", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const open = await openedIntent(ws, now, { secrets: sealed("k1") });
      const record = account(open, now, "puid-1", { accessTokenExpiresAt: minutesFrom(now, 60) });
      const later = minutesFrom(now, 1);
      expect(await suite.store.insertAccount(record, open.id, later)).toEqual({ inserted: record });
      expect(await suite.store.getAccount(ws, record.id)).toEqual(record);
      // GetAccount's read: the same account, its sealed secrets left in the table.
      const { secrets: _secrets, ...summary } = record;
      expect(await suite.store.getAccountSummary(ws, record.id)).toStrictEqual(summary);
      expect(await suite.store.getAccountSummary(ws, "acc_01JNOSUCHACCOUNTNOSUCHACCO")).toBeUndefined();
      // GetCredentials' read: the sealed secrets and what deciding on them needs, nothing else.
      const { id, workspaceId, provider, status, secrets, accessTokenExpiresAt } = record;
      expect(await suite.store.getSealedAccount(ws, record.id)).toStrictEqual({ id, workspaceId, provider, status, secrets, accessTokenExpiresAt });
      expect(await suite.store.getSealedAccount(ws, "acc_01JNOSUCHACCOUNTNOSUCHACCO")).toBeUndefined();
      expect(await suite.store.getIntent(ws, open.id)).toEqual({ ...open, status: "CONNECTED", closedAt: later, updatedAt: later, secrets: null, revision: open.revision + 1 });
    });

    it("round-trips an identity without optional fields", async () => {
      const ws = await newWorkspace();
      const created = await connected(ws, new Date(), undefined, { identity: { providerUserId: "bare" }, secrets: null, options: {} });
      expect(await suite.store.getAccount(ws, created.id)).toEqual(created);
      expect(created.identity).toStrictEqual({ providerUserId: "bare" });
    });

    it("answers duplicateOf for a live account with the same provider user id, writes nothing and leaves the intent open", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const existing = await connected(ws, now, "puid-dup");
      const open = await openedIntent(ws, now);
      expect(await suite.store.insertAccount(account(open, now, "puid-dup"), open.id, now)).toEqual({ duplicateOf: existing.id });
      expect(await suite.store.getAccount(ws, open.accountId)).toBeUndefined();
      expect(await suite.store.getIntent(ws, open.id)).toEqual(open);
    });

    it("answers intentGone, writing nothing, when the intent expired, was canceled or doesn't exist", async () => {
      const ws = await newWorkspace();
      const now = new Date();

      const expired = await openedIntent(ws, now);
      expect(await suite.store.insertAccount(account(expired, now), expired.id, expired.expiresAt)).toEqual({ intentGone: expired });
      expect(await suite.store.getAccount(ws, expired.accountId)).toBeUndefined();

      const canceled = await openedIntent(ws, now);
      const restarted = intent(ws, now, { identityKey: canceled.identityKey });
      await suite.store.openIntent(restarted, now, true);
      const result = await suite.store.insertAccount(account(canceled, now), canceled.id, now);
      expect(result).toEqual({ intentGone: expect.objectContaining({ id: canceled.id, status: "CANCELED" }) });
      expect(await suite.store.getAccount(ws, canceled.accountId)).toBeUndefined();

      const missing = intent(ws, now);
      expect(await suite.store.insertAccount(account(missing, now), missing.id, now)).toEqual({ intentGone: null });
    });

    it("never creates twins: two intents racing for one provider user id give one account", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      for (let round = 0; round < 10; round++) {
        const a = await openedIntent(ws, now);
        const b = await openedIntent(ws, now);
        const puid = `twin-${round}`;
        const results = await Promise.all([suite.store.insertAccount(account(a, now, puid), a.id, now), suite.store.insertAccount(account(b, now, puid), b.id, now)]);
        const inserted = results.flatMap((r) => ("inserted" in r ? [r.inserted] : []));
        expect(inserted).toHaveLength(1);
        expect(results).toContainEqual({ duplicateOf: inserted[0]!.id });
      }
      const accounts = await suite.store.listAccounts({ workspaceId: ws, limit: 100 });
      expect(accounts).toHaveLength(10);
    });
  });

  describe("accounts", () => {
    it("lists by id, page by page, with filters, leaving DELETED out unless asked", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const mail = [await connected(ws, now), await connected(ws, now), await connected(ws, now)];
      const linkedinIntent = await openedIntent(ws, now, { provider: "LINKEDIN" });
      const linkedin = account(linkedinIntent, now, "li-1", { authMethod: "linkedin_basic", status: "CREDENTIALS_EXPIRED" });
      await suite.store.insertAccount(linkedin, linkedinIntent.id, now);
      const deleted = await connected(ws, now);
      await suite.store.deleteAccount(ws, deleted.id, now);
      const live = [...mail, linkedin].map(summary);

      const page1 = await suite.store.listAccounts({ workspaceId: ws, limit: 3 });
      const page2 = await suite.store.listAccounts({ workspaceId: ws, limit: 3, afterId: page1.at(-1)!.id });
      // A listing carries no sealed secrets: exactly the records less their secrets.
      expect([...page1, ...page2]).toStrictEqual(live);
      expect(page2).toHaveLength(1);
      expect(await suite.store.listAccounts({ workspaceId: ws, limit: 3, afterId: page2[0]!.id })).toEqual([]);

      expect(await suite.store.listAccounts({ workspaceId: ws, limit: 10, provider: "MAIL" })).toEqual(mail.map(summary));
      expect(await suite.store.listAccounts({ workspaceId: ws, limit: 10, status: "CREDENTIALS_EXPIRED" })).toEqual([summary(linkedin)]);
      const deletedList = await suite.store.listAccounts({ workspaceId: ws, limit: 10, status: "DELETED" });
      expect(deletedList.map((a) => a.id)).toEqual([deleted.id]);
    });

    it("deletes softly: status DELETED, secrets erased, identity free to connect again", async () => {
      const ws = await newWorkspace();
      const now = new Date();
      const original = await connected(ws, now, "puid-again");
      const at = minutesFrom(now, 1);
      expect(await suite.store.deleteAccount(ws, original.id, at)).toBe(true);
      expect(await suite.store.getAccount(ws, original.id)).toEqual({ ...original, status: "DELETED", secrets: null, updatedAt: at, statusChangedAt: at });
      expect(await suite.store.deleteAccount(ws, original.id, at)).toBe(false);
      expect(await suite.store.deleteAccount(ws, newId("acc"), at)).toBe(false);

      const again = await connected(ws, at, "puid-again");
      expect(again.id).not.toBe(original.id);
    });

    it("keeps workspaces apart", async () => {
      const wsA = await newWorkspace();
      const wsB = await newWorkspace();
      const now = new Date();
      const accountA = await connected(wsA, now);
      const intentA = await openedIntent(wsA, now);

      expect(await suite.store.getAccount(wsB, accountA.id)).toBeUndefined();
      expect(await suite.store.listAccounts({ workspaceId: wsB, limit: 10 })).toEqual([]);
      expect(await suite.store.deleteAccount(wsB, accountA.id, now)).toBe(false);
      expect(await suite.store.refreshAccountLocked(wsB, accountA.id, 5_000, async (current) => ({ answer: current }))).toBeUndefined();
      expect(await suite.store.getIntent(wsB, intentA.id)).toBeUndefined();
      expect(await suite.store.getIntentByAccountId(wsB, intentA.accountId)).toBeUndefined();
      expect(await suite.store.insertAccount({ ...account(intentA, now), workspaceId: wsB }, intentA.id, now)).toEqual({ intentGone: null });

      expect(await suite.store.getAccount(wsA, accountA.id)).toEqual(accountA);
      expect(await suite.store.getIntent(wsA, intentA.id)).toEqual(intentA);
    });
  });

  describe("key rotation", () => {
    it("lists blobs not under the active key and replaces them compare-and-set", async () => {
      // Key ids unique to this test, so other tests' blobs don't show up.
      const [oldKey, activeKey] = [newId("old"), newId("new")];
      const ws = await newWorkspace();
      const now = new Date();
      const stale1 = await connected(ws, now, undefined, { secrets: sealed(oldKey) });
      const stale2 = await connected(ws, now, undefined, { secrets: sealed(oldKey) });
      await connected(ws, now, undefined, { secrets: sealed(activeKey) });
      const waiting = await openedIntent(ws, now, { secrets: sealed(oldKey) });

      const mine = async () => (await suite.store.listStaleSecrets(activeKey, 1000)).filter((s) => s.secrets.keyId === oldKey);
      const stale = await mine();
      expect(stale).toEqual([
        { table: "accounts", id: stale1.id, workspaceId: ws, secrets: stale1.secrets },
        { table: "accounts", id: stale2.id, workspaceId: ws, secrets: stale2.secrets },
        { table: "intents", id: waiting.id, workspaceId: ws, secrets: waiting.secrets },
      ]);
      expect(await suite.store.listStaleSecrets(activeKey, 1)).toHaveLength(1);

      const [ref1, ref2, refIntent] = stale;
      const next1 = sealed(activeKey);
      expect(await suite.store.replaceSecret(ref1!, next1)).toBe(true);
      expect(await suite.store.replaceSecret(ref1!, sealed(activeKey))).toBe(false); // no longer under the old blob
      expect((await suite.store.getAccount(ws, stale1.id))!.secrets).toEqual(next1);

      // A concurrent writer re-sealed under the same old key: the rotation must not clobber it.
      const rewritten = sealed(oldKey);
      await suite.store.refreshAccountLocked(ws, stale2.id, 5_000, async () => ({ answer: undefined, write: { at: now, expected: stale2.secrets!, secrets: { sealed: rewritten, accessTokenExpiresAt: null } } }));
      expect(await suite.store.replaceSecret(ref2!, sealed(activeKey))).toBe(false);
      expect((await suite.store.getAccount(ws, stale2.id))!.secrets).toEqual(rewritten);

      expect(await suite.store.replaceSecret(refIntent!, sealed(activeKey))).toBe(true);
      expect((await suite.store.getIntent(ws, waiting.id))!.secrets!.keyId).toBe(activeKey);
      expect((await mine()).map((s) => s.id)).toEqual([stale2.id]);
    });
  });

  describe("operations", () => {
    it("ping answers while the database is there", async () => {
      await expect(suite.store.ping()).resolves.toBeUndefined();
    });

    it("countOpenIntents counts intents neither ended nor expired, in every workspace", async () => {
      const now = new Date();
      const before = await suite.store.countOpenIntents(now);
      const [wsA, wsB] = [await newWorkspace(), await newWorkspace()];
      const open = await openedIntent(wsA, now);
      await openedIntent(wsB, now, { status: "CHECKPOINT" });
      await openedIntent(wsB, minutesFrom(now, -30), { expiresAt: minutesFrom(now, -1) });
      expect(await suite.store.countOpenIntents(now)).toBe(before + 2);
      await suite.store.updateOpenIntent(open.id, { status: "FAILED", closedAt: now, updatedAt: now, errorKind: "invalid_credentials" });
      expect(await suite.store.countOpenIntents(now)).toBe(before + 1);
    });
  });

  describe("migrations", () => {
    it("open again on the same database: nothing to apply, data intact", async () => {
      const ws = await newWorkspace();
      const again = await suite.location.open();
      try {
        expect((await again.listWorkspaces()).find((w) => w.id === ws)).toMatchObject({ id: ws });
      } finally {
        await again.close();
      }
    });
  });

  it("lets a programming error (here a foreign key violation) through as itself, not as service_unavailable", async () => {
    // A foreign key violation is a bug, not an outage: it must not pass for service_unavailable.
    const error = await suite.store.createApiKey({ id: newId("key"), workspaceId: newId("ws"), secretHash: Buffer.alloc(1), label: "", scopes: [], createdAt: new Date(), revokedAt: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AppError);
  });
});
