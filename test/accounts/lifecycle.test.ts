import { toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountSchema, AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountService, GetAccountResponseSchema, ListAccountsResponseSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import {
  accountRows,
  BACKENDS,
  expectFailure,
  expectOk,
  intentRows,
  jsonOf,
  linkedinRequest,
  mailRequest,
  secretsOf,
  startHarness,
  twitterRequest,
  uniqueLogin,
  type ConnectRequest,
  type Harness,
} from "./helpers.ts";

const ACCOUNT_ID = /^acc_[0-9A-HJKMNP-TV-Z]{26}$/;
const { connectAccount, getAccount, listAccounts, deleteAccount } = AccountService.method;

describe.each(BACKENDS)("account lifecycle on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(() => h?.close());

  const connect = (wire: Wire, request: ConnectRequest, options: { apiKey?: string; headers?: Record<string, string> } = {}) =>
    callRpc(h.server, wire, connectAccount, request, { apiKey: options.apiKey ?? h.server.apiKey, ...(options.headers ? { headers: options.headers } : {}) });
  const get = (wire: Wire, accountId: string, apiKey = h.server.apiKey) => callRpc(h.server, wire, getAccount, { accountId }, { apiKey });
  const list = (wire: Wire, request: Parameters<typeof callRpc<typeof listAccounts.input, typeof listAccounts.output>>[3], apiKey = h.server.apiKey) =>
    callRpc(h.server, wire, listAccounts, request, { apiKey });
  const remove = (wire: Wire, accountId: string, apiKey = h.server.apiKey) => callRpc(h.server, wire, deleteAccount, { accountId }, { apiKey });

  describe.each(WIRES)("over %s", (wire) => {
    it("connects an account that Get and List read back with its options and no secret", async () => {
      const login = uniqueLogin("li");
      const request = linkedinRequest(login);
      const secrets = secretsOf(request);
      const before = Date.now();

      const created = expectOk(await connect(wire, request));
      expect(created.object).toBe("AccountCreated");
      expect(created.accountId).toMatch(ACCOUNT_ID);

      const got = expectOk(await get(wire, created.accountId));
      const account = got.account!;
      expect(toJson(AccountSchema, account)).toEqual({
        id: created.accountId,
        provider: "PROVIDER_LINKEDIN",
        authMethod: "AUTH_METHOD_LINKEDIN_BASIC",
        status: "ACCOUNT_STATUS_CONNECTED",
        identity: { providerUserId: `li-${login}`, displayName: `LinkedIn ${login}` },
        options: {
          country: "FR",
          ip: "203.0.113.7",
          disabledFeatures: ["DISABLED_FEATURE_LINKEDIN_RECRUITER", "DISABLED_FEATURE_LINKEDIN_SALES_NAVIGATOR"],
          historySyncLimit: { chats: { count: 25 }, messages: { since: "2025-12-31T23:59:59Z" } },
          proxy: { protocol: "PROXY_PROTOCOL_SOCKS5", host: "proxy.example.net", port: 1080, username: "proxy-user", hasPassword: true },
          userAgent: "Mozilla/5.0 (X11; Linux x86_64) TestAgent/1.0",
          recruiterContractId: "contract-42",
        },
        createTime: expect.any(String),
        updateTime: expect.any(String),
        statusChangeTime: expect.any(String),
      });
      const createdAt = timestampMs(account.createTime!);
      expect(createdAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 1_000);

      const listed = expectOk(await list(wire, { pageSize: 250 }));
      const inList = listed.accounts.find((a) => a.id === created.accountId);
      expect(inList).toEqual(account);

      // No secret anywhere in what the API answers, in either of protobuf's JSON forms.
      for (const text of [jsonOf(got), jsonOf(listed), JSON.stringify(toJson(GetAccountResponseSchema, got)), JSON.stringify(toJson(ListAccountsResponseSchema, listed))]) {
        for (const s of secrets) expect(text).not.toContain(s);
      }
      // Positive control: the same check finds what is there.
      expect(jsonOf(got)).toContain(login);
    });
  });

  it("keeps each variant's provider, auth method, identity and sync limit (mail, X)", async () => {
    const mailLogin = `${uniqueLogin("box")}@example.org`;
    const mail = mailRequest(mailLogin);
    const mailId = expectOk(await connect("connect-json", mail)).accountId;
    const mailAccount = toJson(AccountSchema, expectOk(await get("grpc", mailId)).account!);
    expect(mailAccount).toMatchObject({
      provider: "PROVIDER_MAIL",
      authMethod: "AUTH_METHOD_MAIL",
      status: "ACCOUNT_STATUS_CONNECTED",
      identity: { providerUserId: `${mailLogin}@imap.example.com`, email: mailLogin },
      options: { country: "DE", mailSyncLimit: "MAIL_SYNC_LIMIT_NO_HISTORY_SYNC" },
    });

    const xLogin = uniqueLogin("x");
    const x = twitterRequest(xLogin);
    // Connection details the connector reports are kept with the account but are not part of its options.
    h.connector.plan(xLogin, { details: { transport: "scripted", region: "eu" } });
    const xId = expectOk(await connect("grpc-web", x)).accountId;
    const xAccount = expectOk(await get("connect-binary", xId));
    expect(toJson(AccountSchema, xAccount.account!)).toMatchObject({
      provider: "PROVIDER_TWITTER",
      authMethod: "AUTH_METHOD_TWITTER",
      status: "ACCOUNT_STATUS_CONNECTED",
      identity: { providerUserId: `x-${xLogin}`, handle: xLogin, email: `${xLogin}@example.com`, displayName: `X ${xLogin}` },
      options: {},
    });
    expect(jsonOf(xAccount)).not.toContain("scripted");
    for (const s of [...secretsOf(mail), ...secretsOf(x)]) expect(jsonOf([mailAccount, xAccount])).not.toContain(s);
  });

  it("answers a duplicate provider identity with ALREADY_EXISTS naming the existing account, and closes the intent", async () => {
    const login = uniqueLogin("dup");
    const first = expectOk(await connect("grpc", twitterRequest(login))).accountId;

    const second = expectFailure(await connect("connect-json", twitterRequest(login)), Code.AlreadyExists, "errors/already_exists");
    expect(second.errorInfo?.metadata.accountId).toBe(first);
    // The failed attempt's intent is closed: a third attempt is judged again, not auth_in_progress.
    const third = expectFailure(await connect("grpc-web", twitterRequest(login)), Code.AlreadyExists, "errors/already_exists");
    expect(third.errorInfo?.metadata.accountId).toBe(first);

    // Another login the provider says is the same person is a duplicate too: dedupe is on the provider's identity.
    const alias = uniqueLogin("alias");
    h.connector.plan(alias, { identity: { providerUserId: `x-${login}` } });
    const fourth = expectFailure(await connect("connect-binary", twitterRequest(alias)), Code.AlreadyExists, "errors/already_exists");
    expect(fourth.errorInfo?.metadata.accountId).toBe(first);

    const rows = await accountRows(h.raw, `x-${login}`);
    expect(rows.map((r) => [r.id, r.status])).toEqual([[first, "CONNECTED"]]);
    const intents = await intentRows(h.raw, `user:${login}`);
    expect(intents.map((i) => [i.status, i.error_kind, i.closed_at !== null])).toEqual([
      ["CONNECTED", null, true],
      ["FAILED", "already_exists", true],
      ["FAILED", "already_exists", true],
    ]);
    expect(h.connector.callsFor(login)).toHaveLength(3);
  });

  it.each([
    ["invalid_credentials", Code.Unauthenticated, "errors/invalid_credentials"],
    ["account_restricted", Code.PermissionDenied, "errors/account_restricted"],
  ] as const)("passes a provider refusal (%s) through with its catalogue type and writes no account", async (kind, code, type) => {
    const login = uniqueLogin("refused");
    const request = twitterRequest(login);
    h.connector.plan(login, { waitMs: 20, fail: kind });

    for (const wire of WIRES) {
      const failure = expectFailure(await connect(wire, request), code, type);
      for (const s of secretsOf(request)) expect(jsonOf(failure)).not.toContain(s);
    }
    expect(await accountRows(h.raw, `x-${login}`)).toEqual([]);
    const intents = await intentRows(h.raw, `user:${login}`);
    expect(intents).toHaveLength(WIRES.length);
    for (const i of intents) expect([i.status, i.error_kind, i.closed_at !== null]).toEqual(["FAILED", kind, true]);

    // The refusal blocked nothing: the next attempt, which the provider accepts, links the account.
    h.connector.plan(login, {});
    const id = expectOk(await connect("grpc", request)).accountId;
    expect((await accountRows(h.raw, `x-${login}`)).map((r) => r.id)).toEqual([id]);
  });

  it("deletes: gone from the default list, DELETED by filter and by Get, secrets erased, identity free again", async () => {
    const login = `${uniqueLogin("del")}@example.org`;
    const puid = `${login}@imap.example.com`;
    const first = expectOk(await connect("grpc", mailRequest(login))).accountId;
    expect((await accountRows(h.raw, puid))[0]?.secrets_envelope).not.toBeNull();

    const deleted = expectOk(await remove("connect-binary", first)).account!;
    expect(deleted.id).toBe(first);
    expect(deleted.status).toBe(AccountStatus.DELETED);

    const listedIds = (r: { accounts: { id: string }[] }) => r.accounts.map((a) => a.id);
    expect(listedIds(expectOk(await list("grpc-web", { pageSize: 250 })))).not.toContain(first);
    const deletedList = expectOk(await list("connect-json", { pageSize: 250, status: AccountStatus.DELETED }));
    expect(listedIds(deletedList)).toContain(first);
    expect(deletedList.accounts.find((a) => a.id === first)?.status).toBe(AccountStatus.DELETED);
    expect(expectOk(await get("grpc", first)).account?.status).toBe(AccountStatus.DELETED);

    const [row] = await accountRows(h.raw, puid);
    expect({ status: row?.status, keyId: row?.secrets_key_id, envelope: row?.secrets_envelope }).toEqual({ status: "DELETED", keyId: null, envelope: null });

    // The identity can be linked again, as a new account; the deleted one stays DELETED.
    const second = expectOk(await connect("connect-json", mailRequest(login))).accountId;
    expect(second).not.toBe(first);
    expect(expectOk(await get("grpc-web", second)).account?.status).toBe(AccountStatus.CONNECTED);
    expect(expectOk(await get("grpc-web", first)).account?.status).toBe(AccountStatus.DELETED);
    expect((await accountRows(h.raw, puid)).map((r) => [r.id, r.status])).toEqual([
      [first, "DELETED"],
      [second, "CONNECTED"],
    ]);

    // DeleteAccount is idempotent: deleting again answers the deleted account, changed nothing.
    const again = expectOk(await remove("grpc", first)).account;
    expect(again?.status).toBe(AccountStatus.DELETED);
    expect(again?.id).toBe(first);
  });

  describe.each(WIRES)("workspace isolation over %s", (wire) => {
    it("hides A's accounts from B exactly like missing ones: get, list, delete", async () => {
      const login = uniqueLogin("iso");
      const id = expectOk(await connect(wire, twitterRequest(login))).accountId;
      const missing = `acc_${ulid()}`;
      const other = h.server.otherApiKey;

      const foreign = expectFailure(await get(wire, id, other), Code.NotFound, "errors/not_found");
      const absent = expectFailure(await get(wire, missing, other), Code.NotFound, "errors/not_found");
      // Indistinguishable: same code, type, message and metadata keys; each only echoes the id asked for.
      expect(foreign.message).toBe(absent.message);
      expect(Object.keys(foreign.errorInfo!.metadata).sort()).toEqual(Object.keys(absent.errorInfo!.metadata).sort());
      expect(foreign.errorInfo?.reason).toBe(absent.errorInfo?.reason);
      expect(foreign.errorInfo?.metadata.accountId).toBe(id);
      expect(absent.errorInfo?.metadata.accountId).toBe(missing);

      for (const status of [AccountStatus.UNSPECIFIED, AccountStatus.CONNECTED, AccountStatus.DELETED]) {
        const page = expectOk(await list(wire, { pageSize: 250, status }, other));
        expect(page.accounts.map((a) => a.id)).not.toContain(id);
        expect(page.accounts.map((a) => a.identity?.providerUserId)).not.toContain(`x-${login}`);
      }

      const foreignDelete = expectFailure(await remove(wire, id, other), Code.NotFound, "errors/not_found");
      const absentDelete = expectFailure(await remove(wire, missing, other), Code.NotFound, "errors/not_found");
      expect(foreignDelete.message).toBe(absentDelete.message);
      // A's account is untouched.
      expect(expectOk(await get(wire, id)).account?.status).toBe(AccountStatus.CONNECTED);
      const [row] = await accountRows(h.raw, `x-${login}`);
      expect(row?.status).toBe("CONNECTED");
      expect(row?.secrets_envelope).not.toBeNull();

      // B may link the same person in its own workspace: no ALREADY_EXISTS pointing into A.
      const bId = expectOk(await connect(wire, twitterRequest(login), { apiKey: other })).accountId;
      expect(bId).not.toBe(id);
      expect(expectOk(await get(wire, bId, other)).account?.identity?.providerUserId).toBe(`x-${login}`);
      expectFailure(await get(wire, bId), Code.NotFound, "errors/not_found");
    });
  });
});
