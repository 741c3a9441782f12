import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/auth/authenticator.ts";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import { parseApiKey } from "../../src/auth/api-key.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";

/** The API-key cache: a revocation elsewhere takes effect within cacheMs, never later, and the secret is checked on every call. */
describe("createAuthenticator", () => {
  let dir: string;
  let store: Store;
  let reads: number;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "auth-test-"));
    const real = await openSqliteStore({ path: join(dir, "accounts.db") });
    reads = 0;
    clock = 1_000_000;
    store = { ...real, getApiKey: (id) => (reads++, real.getApiKey(id)) };
    await createWorkspace(store, "alpha");
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const keyIdOf = (token: string) => parseApiKey(token)!.keyId;
  const errorKind = (p: Promise<unknown>) => p.then(() => "ok", (e: { kind?: string }) => e.kind);

  it("reads a key once within cacheMs; a revocation shows once the entry expires", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 5_000, now });
    const { token } = await createApiKey(store, "alpha", "test");
    expect((await authenticate(token)).workspaceId).toMatch(/^ws_/);
    await store.revokeApiKey(keyIdOf(token), new Date());
    clock += 4_999;
    expect(await errorKind(authenticate(token))).toBe("ok");
    expect(reads).toBe(1);
    clock += 1;
    expect(await errorKind(authenticate(token))).toBe("revoked_api_key");
    expect(reads).toBe(2);
  });

  it("the caller carries the key's scopes; a scope change shows once the entry expires, like a revocation", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 5_000, now });
    const { token } = await createApiKey(store, "alpha", "test", ["accounts:read"]);
    expect([...(await authenticate(token)).scopes]).toEqual(["accounts:read"]);
    await store.setApiKeyScopes(keyIdOf(token), ["accounts:read", "accounts:write"]);
    clock += 4_999;
    expect([...(await authenticate(token)).scopes]).toEqual(["accounts:read"]);
    clock += 1;
    expect([...(await authenticate(token)).scopes]).toEqual(["accounts:read", "accounts:write"]);
    expect(reads).toBe(2);
  });

  it("checks the secret on every call, cached or not", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 5_000, now });
    const { token } = await createApiKey(store, "alpha", "test");
    await authenticate(token);
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect(await errorKind(authenticate(forged))).toBe("invalid_api_key");
    expect(reads).toBe(1);
  });

  it("never keeps an unknown key id: a key created after a miss works at once", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 5_000, now });
    const { token } = await createApiKey(store, "alpha", "test");
    await store.revokeApiKey(keyIdOf(token), new Date());
    const unknown = token.replace(/^ppa_.{4}/, "ppa_0000");
    expect(await errorKind(authenticate(unknown))).toBe("invalid_api_key");
    expect(await errorKind(authenticate(unknown))).toBe("invalid_api_key");
    expect(reads).toBe(2);
  });

  it("shares one read among the calls that arrive together", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 5_000, now });
    const { token } = await createApiKey(store, "alpha", "test");
    await Promise.all(Array.from({ length: 20 }, () => authenticate(token)));
    expect(reads).toBe(1);
  });

  it("with cacheMs 0 reads the store on every call: a revocation shows at once", async () => {
    const authenticate = createAuthenticator(store, { cacheMs: 0, now });
    const { token } = await createApiKey(store, "alpha", "test");
    await authenticate(token);
    await store.revokeApiKey(keyIdOf(token), new Date());
    expect(await errorKind(authenticate(token))).toBe("revoked_api_key");
    expect(reads).toBe(2);
  });
});
