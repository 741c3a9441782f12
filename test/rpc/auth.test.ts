import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { generateApiKey } from "../../src/auth/api-key.ts";
import { createApiKey } from "../../src/auth/workspaces.ts";
import { callRpc, WIRES, type CallOptions, type RpcResult, type Wire } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector } from "../support/test-connectors.ts";
import { type ConnectInit } from "./examples.ts";

/** The caller's API key: missing, unknown, revoked; both headers; the key picks the workspace. */

let server: TestServer;
let revokedKey: string;
let alphaId: string;
let betaId: string;
beforeAll(async () => {
  // Revocation is checked on the very next call: no API-key cache (production trusts a key
  // API_KEY_CACHE_MS, 5 s by default; test/unit/authenticator.test.ts covers the cache).
  server = await startTestServer({ connectors: [scriptedConnector(["twitter"])], env: { API_KEY_CACHE_MS: "0" } });
  const created = await createApiKey(server.store, "alpha", "to-revoke");
  revokedKey = created.token;
  alphaId = created.record.workspaceId;
  betaId = (await server.store.findWorkspaceByName("beta"))!.id;
});
afterAll(() => server.close());

const listAccounts = AccountService.method.listAccounts;
let n = 0;
const twitter = (): ConnectInit => ({ variant: { case: "twitter", value: { username: `auth-${++n}`, email: "anna@acme.com", password: "pw" } } });

function expectAuthFailure(r: RpcResult<unknown>, type: string) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe(Code.Unauthenticated);
  expect(r.error.errorInfoCount).toBe(1);
  expect(r.error.errorInfo?.metadata.type).toBe(type);
  expect(r.error.errorInfo?.metadata.type).not.toBe("errors/invalid_credentials");
  expect(r.error.errorInfo?.metadata.httpStatus).toBe("401");
  expect(r.error.retryInfo).toBeUndefined();
}

describe.each(WIRES)("over %s", (wire: Wire) => {
  const call = (options: CallOptions, request: ConnectInit = twitter()) => callRpc(server, wire, AccountService.method.connectAccount, request, options);

  it("no key → errors/missing_api_key", async () => {
    expectAuthFailure(await call({}), "errors/missing_api_key");
    expectAuthFailure(await callRpc(server, wire, listAccounts, {}, {}), "errors/missing_api_key");
  });
  it("an empty bearer and a non-bearer authorization → errors/missing_api_key", async () => {
    expectAuthFailure(await call({ headers: { authorization: "Bearer " } }), "errors/missing_api_key");
    expectAuthFailure(await call({ headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } }), "errors/missing_api_key");
  });
  it("a malformed key → errors/invalid_api_key", async () => {
    expectAuthFailure(await call({ apiKey: "not-a-key" }), "errors/invalid_api_key");
  });
  it("a well-formed key this service never issued → errors/invalid_api_key", async () => {
    expectAuthFailure(await call({ apiKey: generateApiKey().token }), "errors/invalid_api_key");
  });
  it("a known key id with the wrong secret → errors/invalid_api_key", async () => {
    const forged = server.apiKey.slice(0, "ppa_".length + 26 + 1) + "A".repeat(43);
    expect(forged).toMatch(/^ppa_[0-9A-Z]{26}_A{43}$/);
    expect(forged).not.toBe(server.apiKey);
    expectAuthFailure(await call({ apiKey: forged }), "errors/invalid_api_key");
  });
  it("authentication comes before validation: an invalid request without a key is still missing_api_key", async () => {
    expectAuthFailure(await call({}, { country: "FRA" }), "errors/missing_api_key");
  });
  it("x-api-key and authorization: Bearer both work (any case of Bearer)", async () => {
    expect((await callRpc(server, wire, listAccounts, {}, { apiKey: server.apiKey })).ok).toBe(true);
    expect((await callRpc(server, wire, listAccounts, {}, { headers: { authorization: `Bearer ${server.apiKey}` } })).ok).toBe(true);
    expect((await callRpc(server, wire, listAccounts, {}, { headers: { authorization: `bearer ${server.apiKey}` } })).ok).toBe(true);
  });
  it("the key picks the workspace: B cannot see A's account, and the log line names A", async () => {
    const requestId = `auth-ws-${wire}`;
    const created = await call({ headers: { authorization: `Bearer ${server.apiKey}`, "x-request-id": requestId } });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    const accountId = created.response.accountId;
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === requestId);
    expect(line?.workspace).toBe(alphaId);

    const asA = await callRpc(server, wire, AccountService.method.getAccount, { accountId }, { apiKey: server.apiKey });
    expect(asA.ok).toBe(true);
    const asB = await callRpc(server, wire, AccountService.method.getAccount, { accountId }, { apiKey: server.otherApiKey });
    expect(asB.ok).toBe(false);
    if (!asB.ok) expect(asB.error.errorInfo?.metadata.type).toBe("errors/not_found");
    const listB = await callRpc(server, wire, listAccounts, {}, { headers: { authorization: `Bearer ${server.otherApiKey}` } });
    expect(listB.ok && listB.response.accounts.map((a) => a.id)).not.toContain(accountId);
    const listA = await callRpc(server, wire, listAccounts, {}, { apiKey: server.apiKey });
    expect(listA.ok && listA.response.accounts.map((a) => a.id)).toContain(accountId);
    expect(betaId).not.toBe(alphaId);
  });
});

describe("revocation", () => {
  it("a key works on every wire until store.revokeApiKey, then answers errors/revoked_api_key on every wire", async () => {
    for (const wire of WIRES) expect((await callRpc(server, wire, listAccounts, {}, { apiKey: revokedKey })).ok, wire).toBe(true);
    expect(await server.store.revokeApiKey(keyIdOf(revokedKey), new Date())).toBe(true);
    for (const wire of WIRES) {
      expectAuthFailure(await callRpc(server, wire, listAccounts, {}, { apiKey: revokedKey }), "errors/revoked_api_key");
      expectAuthFailure(await callRpc(server, wire, AccountService.method.connectAccount, twitter(), { headers: { authorization: `Bearer ${revokedKey}` } }), "errors/revoked_api_key");
    }
    // The workspace's other key is untouched.
    expect((await callRpc(server, "grpc", listAccounts, {}, { apiKey: server.apiKey })).ok).toBe(true);
  });
});

describe("a test server runs with production's defaults", () => {
  it("API_KEY_CACHE_MS unset: a revoked key read moments ago is still trusted (the 5 s cache is on)", async () => {
    const plain = await startTestServer();
    try {
      expect((await callRpc(plain, "grpc", listAccounts, {}, { apiKey: plain.apiKey })).ok).toBe(true);
      expect(await plain.store.revokeApiKey(keyIdOf(plain.apiKey), new Date())).toBe(true);
      // Well within 5 s of the read above, however busy the machine: the cached key answers.
      expect((await callRpc(plain, "grpc", listAccounts, {}, { apiKey: plain.apiKey })).ok).toBe(true);
    } finally {
      await plain.close();
    }
  });
});

function keyIdOf(token: string): string {
  return `key_${token.split("_")[1]}`;
}
