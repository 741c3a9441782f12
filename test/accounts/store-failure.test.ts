import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { loadConfig } from "../../src/config.ts";
import { build, type Server } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { callRpc, WIRES, type Endpoint, type RpcResult, type Wire } from "../support/clients.ts";
import { capturedLogger } from "../support/logs.ts";
import { createScriptedConnector, type ScriptedConnector } from "../support/scripted-connector.ts";
import { testSealer } from "../support/server.ts";
import { accountRows, expectFailure, expectOk, intentRows, rawPostgres, storedDate, twitterRequest, uniqueLogin, type RawDb } from "./helpers.ts";
import { seedWorkspaces } from "./replicas.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
import { PG_URL, dropSchema, uniqueSchema } from "../support/pg.ts";

const { connectAccount, getAccount, listAccounts, deleteAccount } = AccountService.method;
const INTENT_TTL_MS = 1_500;

/**
 * The real server on a PostgreSQL store reached through a loopback TCP proxy: the test takes
 * the database away from this server alone (and reads the truth around the proxy).
 */
describe("PostgreSQL store failures", () => {
  const schema = uniqueSchema("storefail");
  let proxy: TcpProxy;
  let store: Store;
  let server: Server;
  let endpoint: Endpoint;
  let apiKey: string;
  let connector: ScriptedConnector;
  let raw: RawDb;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(PG_URL).port || 5432) });
    const url = new URL(PG_URL);
    url.port = String(proxy.port);
    // A short statement timeout keeps a hung connection from stalling the suite.
    store = await openPostgresStore({ connectionString: url.toString(), schema, statementTimeoutMs: 2_000 });
    ({ apiKey } = await seedWorkspaces(store));
    connector = createScriptedConnector();
    server = build(loadConfig({ INTENT_TTL_MS: String(INTENT_TTL_MS) }), { store, sealer: testSealer(), connectors: [connector], log: capturedLogger().log });
    const ports = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0 });
    endpoint = { grpcAddress: `127.0.0.1:${ports.grpcPort}`, httpUrl: `http://127.0.0.1:${ports.httpPort}` };
    raw = rawPostgres(schema);
  });
  afterAll(async () => {
    proxy?.restore();
    await connector?.idle();
    await server?.drain(1_000);
    await store?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  const connect = (wire: Wire, login: string) => callRpc(endpoint, wire, connectAccount, twitterRequest(login), { apiKey });

  it("answers UNAVAILABLE service_unavailable on every RPC and wire while the database is unreachable, then recovers", async () => {
    const before = expectOk(await connect("grpc", uniqueLogin("up"))).accountId;
    proxy.cut();
    try {
      for (const wire of WIRES) {
        const started = Date.now();
        const failures: RpcResult<unknown>[] = [
          await callRpc(endpoint, wire, getAccount, { accountId: before }, { apiKey }),
          await callRpc(endpoint, wire, listAccounts, {}, { apiKey }),
          await callRpc(endpoint, wire, deleteAccount, { accountId: before }, { apiKey }),
          await connect(wire, uniqueLogin("down")),
        ];
        for (const result of failures) {
          const failure = expectFailure(result, Code.Unavailable, "errors/service_unavailable");
          expect(failure.retryInfo).toBeDefined();
        }
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    } finally {
      proxy.restore();
    }
    // Back: the same server serves again without a restart, and the failed delete changed nothing.
    const got = expectOk(await callRpc(endpoint, "connect-json", getAccount, { accountId: before }, { apiKey }));
    expect(got.account?.id).toBe(before);
    expect(got.account?.status).toBe(1);
    expect(expectOk(await callRpc(endpoint, "grpc-web", listAccounts, {}, { apiKey })).accounts.map((a) => a.id)).toContain(before);
    expectOk(await connect("connect-binary", uniqueLogin("back")));
    expect(connector.calls.filter((c) => c.login.startsWith("down_"))).toEqual([]);
  });

  it("loses the database while the provider answers: nothing written, the intent expires, then the identity connects", async () => {
    const login = uniqueLogin("mid");
    connector.plan(login, { waitMs: 400 }, {});
    const pending = connect("grpc", login);
    await sleep(150);
    proxy.cut();
    let result;
    try {
      result = await pending;
    } finally {
      proxy.restore();
    }
    expectFailure(result, Code.Unavailable, "errors/service_unavailable");

    expect(await accountRows(raw, `x-${login}`)).toEqual([]);
    // Its intent could not be closed (the database was gone): it stays open until it expires.
    const [intent] = await intentRows(raw, `user:${login}`);
    expect([intent?.status, intent?.closed_at]).toEqual(["OPEN", null]);
    const expiresAt = storedDate(intent!.expires_at).getTime();

    if (Date.now() < expiresAt - 200) {
      const blocked = expectFailure(await connect("connect-json", login), Code.Aborted, "errors/auth_in_progress");
      expect(blocked.errorInfo?.metadata.expireTime).toBe(new Date(expiresAt).toISOString());
    }
    await sleep(Math.max(0, expiresAt - Date.now() + 50));
    const id = expectOk(await connect("connect-json", login)).accountId;
    expect((await accountRows(raw, `x-${login}`)).map((r) => r.id)).toEqual([id]);
    const intents = await intentRows(raw, `user:${login}`);
    expect(intents.map((i) => i.status)).toEqual(["EXPIRED", "CONNECTED"]);
  });

  it("loses the connection inside the insert transaction: rolled back whole, the intent fails, a retry connects", async () => {
    const login = uniqueLogin("tx");
    // The account's write is cut on its way to the database. Matched on the provider user id, a parameter the write
    // always sends: its statement is prepared, so its text crosses a connection only the first time.
    proxy.killOn(`x-${login}`);
    const kills = proxy.kills;
    expectFailure(await connect("grpc-web", login), Code.Unavailable, "errors/service_unavailable");
    expect(proxy.kills).toBe(kills + 1);

    expect(await accountRows(raw, `x-${login}`)).toEqual([]);
    // Not CONNECTED: the intent's close was undone with the insert, then the service failed it on a fresh connection.
    const [intent] = await intentRows(raw, `user:${login}`);
    expect([intent?.status, intent?.error_kind]).toEqual(["FAILED", "service_unavailable"]);

    const id = expectOk(await connect("grpc", login)).accountId;
    expect((await accountRows(raw, `x-${login}`)).map((r) => [r.id, r.status])).toEqual([[id, "CONNECTED"]]);
  });
});
