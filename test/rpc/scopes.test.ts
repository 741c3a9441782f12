import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { generateApiKey } from "../../src/auth/api-key.ts";
import { createApiKey } from "../../src/auth/workspaces.ts";
import { newId } from "../../src/ids.ts";
import { columnTypes, migrations } from "../../src/store/migrations.ts";
import { callRpc, WIRES, type RpcResult } from "../support/clients.ts";
import { dropSchema, uniqueSchema, withPg } from "../support/pg.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import { expectProblem, restChecked } from "../rest/support.ts";
import { watchAccount, type StreamWire, type WatchEnd } from "../checkpoints/support/watch.ts";

/**
 * Scoped API keys through every transport on both stores: a read-only key reads but cannot
 * write, a key made before scopes existed (a schema-version-1 row) keeps accounts read and write.
 */

const m = AccountService.method;
const schemaV1 = migrations.find((migration) => migration.version === 1)!;

interface LegacyKey {
  token: string;
  keyId: string;
}

/** A store as the release before scopes left it: schema version 1, workspace "legacy" and one key. */
async function writeV1Store(backend: "sqlite" | "postgres", where: { dataDir: string; pgSchema: string }): Promise<LegacyKey> {
  const { token, keyId, secretHash } = generateApiKey();
  const wsId = newId("ws_");
  const now = new Date();
  if (backend === "sqlite") {
    const db = new DatabaseSync(join(where.dataDir, "accounts.db"));
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    db.exec(schemaV1.sql(columnTypes.sqlite));
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (1, ?)").run(now.getTime());
    db.prepare("INSERT INTO workspaces (id, name, created_at) VALUES (?, 'legacy', ?)").run(wsId, now.getTime());
    db.prepare("INSERT INTO api_keys (id, workspace_id, secret_hash, label, created_at) VALUES (?, ?, ?, 'old', ?)").run(keyId, wsId, secretHash, now.getTime());
    db.close();
  } else {
    await withPg(async (client) => {
      await client.query(`CREATE SCHEMA ${where.pgSchema}`);
      await client.query(`SET search_path TO ${where.pgSchema}`);
      await client.query("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)");
      await client.query(schemaV1.sql(columnTypes.postgres));
      await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES (1, $1)", [now]);
      await client.query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, 'legacy', $2)", [wsId, now]);
      await client.query("INSERT INTO api_keys (id, workspace_id, secret_hash, label, created_at) VALUES ($1, $2, $3, 'old', $4)", [keyId, wsId, secretHash, now]);
    });
  }
  return { token, keyId };
}

function expectScopeRequired(r: RpcResult<unknown> | WatchEnd, scope: string, wire: string): void {
  expect(r.ok, wire).toBe(false);
  if (r.ok) return;
  expect(r.error.code, wire).toBe(Code.PermissionDenied);
  expect(r.error.errorInfo?.metadata.type, wire).toBe("errors/scope_required");
  expect(r.error.errorInfo?.reason, wire).toBe("SCOPE_REQUIRED");
  expect(r.error.errorInfo?.metadata.httpStatus, wire).toBe("403");
  expect(r.error.errorInfo?.metadata.scope, wire).toBe(scope);
  expect(r.error.message, wire).toContain(scope);
}

describe.each(["sqlite", "postgres"] as const)("scoped API keys on %s", (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), "ppa-scopes-"));
  const pgSchema = uniqueSchema("scopes");
  let server: TestServer;
  let connector: ScriptedConnector;
  let legacy: LegacyKey;
  let readKey: string;
  let credentialsKey: string;
  let accountId: string;
  let n = 0;
  const twitter = () => ({ variant: { case: "twitter" as const, value: { username: `scopes-${++n}`, email: "anna@acme.com", password: "pw" } } });

  beforeAll(async () => {
    legacy = await writeV1Store(backend, { dataDir, pgSchema });
    connector = scriptedConnector(["twitter"]);
    server = await startTestServer({ backend, dataDir, pgSchema, connectors: [connector] });
    readKey = (await createApiKey(server.store, "alpha", "reader", ["accounts:read"])).token;
    credentialsKey = (await createApiKey(server.store, "alpha", "vault", ["credentials:read"])).token;
    const created = await callRpc(server, "grpc", m.connectAccount, twitter(), { apiKey: server.apiKey });
    if (!created.ok) throw new Error(created.error.message);
    accountId = created.response.accountId;
  });
  afterAll(async () => {
    await server.close();
    if (backend === "postgres") await dropSchema(pgSchema);
  });

  it("the migration gave the key made before scopes accounts read and write (and events, webhooks); new keys get the same by default, never credentials:read", async () => {
    expect((await server.store.getApiKey(legacy.keyId))?.scopes).toEqual(["accounts:read", "accounts:write", "events:read", "webhooks:write"]);
    const byDefault = await createApiKey(server.store, "alpha", "default");
    expect(byDefault.record.scopes).toEqual(["accounts:read", "accounts:write", "events:read", "webhooks:write"]);
    expect((await server.store.getApiKey(byDefault.record.id))?.scopes).not.toContain("credentials:read");
  });

  describe.each(WIRES)("over %s", (wire) => {
    it("an accounts:read key gets and lists, and is refused ConnectAccount and DeleteAccount naming accounts:write; the connector is never reached", async () => {
      const got = await callRpc(server, wire, m.getAccount, { accountId }, { apiKey: readKey });
      expect(got.ok && got.response.account?.id).toBe(accountId);
      const listed = await callRpc(server, wire, m.listAccounts, {}, { apiKey: readKey });
      expect(listed.ok && listed.response.accounts.map((a) => a.id)).toContain(accountId);

      const before = connector.calls.length;
      expectScopeRequired(await callRpc(server, wire, m.connectAccount, twitter(), { apiKey: readKey }), "accounts:write", wire);
      expect(connector.calls.length).toBe(before);
      expectScopeRequired(await callRpc(server, wire, m.deleteAccount, { accountId }, { apiKey: readKey }), "accounts:write", wire);
      expect((await server.store.getAccount((await server.store.findWorkspaceByName("alpha"))!.id, accountId))?.status).toBe("CONNECTED");
    });

    it("a credentials:read key is refused the accounts RPCs, naming accounts:read", async () => {
      expectScopeRequired(await callRpc(server, wire, m.listAccounts, {}, { apiKey: credentialsKey }), "accounts:read", wire);
      expectScopeRequired(await callRpc(server, wire, m.getAccount, { accountId }, { apiKey: credentialsKey }), "accounts:read", wire);
    });

    it("a key with the default scopes and the migrated key both connect", async () => {
      for (const apiKey of [server.apiKey, legacy.token]) {
        const r = await callRpc(server, wire, m.connectAccount, twitter(), { apiKey });
        expect(r.ok, r.ok ? "" : r.error.message).toBe(true);
      }
      const mine = await callRpc(server, wire, m.listAccounts, {}, { apiKey: legacy.token });
      expect(mine.ok && mine.response.accounts.length).toBeGreaterThan(0);
    });
  });

  it.each(["grpc", "connect-binary", "grpc-web"] as StreamWire[])("WatchAccount (a stream) over %s: refused to a credentials:read key naming accounts:read", async (wire) => {
    const { end } = await watchAccount(server, wire, credentialsKey, accountId).finished(10_000);
    expectScopeRequired(end, "accounts:read", wire);
  });

  describe("over REST", () => {
    it("an accounts:read key reads; POST and DELETE answer 403 errors/scope_required naming accounts:write", async () => {
      const got = await restChecked(server.httpUrl, "GET", `/api/v1/accounts/${accountId}`, { apiKey: readKey });
      expect(got.status).toBe(200);
      expect((await restChecked(server.httpUrl, "GET", "/api/v1/accounts", { apiKey: readKey })).status).toBe(200);

      const before = connector.calls.length;
      const post = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", { apiKey: readKey, body: { provider: "TWITTER", username: `scopes-${++n}`, email: "anna@acme.com", password: "pw" } });
      expectProblem(post, 403, "errors/scope_required");
      expect(post.body.metadata).toMatchObject({ scope: "accounts:write" });
      expect(post.body.detail).toContain("accounts:write");
      expect(connector.calls.length).toBe(before);
      const del = await restChecked(server.httpUrl, "DELETE", `/api/v1/accounts/${accountId}`, { apiKey: readKey });
      expectProblem(del, 403, "errors/scope_required");
    });

    it("a credentials:read key is refused GET naming accounts:read; the migrated key connects", async () => {
      const list = await restChecked(server.httpUrl, "GET", "/api/v1/accounts", { apiKey: credentialsKey });
      expectProblem(list, 403, "errors/scope_required");
      expect(list.body.metadata).toMatchObject({ scope: "accounts:read" });
      const post = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", { apiKey: legacy.token, body: { provider: "TWITTER", username: `scopes-${++n}`, email: "anna@acme.com", password: "pw" } });
      expect(post.status, JSON.stringify(post.body)).toBe(201);
    });
  });

  it("each refusal is logged as PERMISSION_DENIED errors/scope_required, without the key", () => {
    const refusals = server.logs.filter((l) => l.includes('"errorType":"errors/scope_required"'));
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((l) => l.includes('"code":"PermissionDenied"'))).toBe(true);
    for (const key of [readKey, credentialsKey]) expect(server.logs.join("\n")).not.toContain(key.slice(-43));
  });
});
