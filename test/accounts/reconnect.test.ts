/**
 * ReconnectAccount end to end: the real server on both stores, over native gRPC (grpc-js) and
 * Connect (connect-node), against a real Dovecot, the fake Google and Microsoft token endpoints
 * and the scripted gateway. Accounts become CREDENTIALS_EXPIRED the way they do in production
 * (a health check meets a changed password or invalid_grant), then get new credentials under
 * the same id; another mailbox's credentials change nothing, byte for byte.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus, type Account } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountService, CheckpointType, type ReconnectAccountRequestSchema, type ReconnectAccountResponse } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createApiKey } from "../../src/auth/workspaces.ts";
import { loadConfig } from "../../src/config.ts";
import { openAccountSecrets } from "../../src/domain/accounts/account-secrets.ts";
import { createGoogleConnector } from "../../src/domain/connectors/google/google-connector.ts";
import { createMailConnector } from "../../src/domain/connectors/mail/index.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import type { HealthChecker } from "../../src/domain/events/health-checker.ts";
import { SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { startCheckpointServer, type CheckpointServer } from "../checkpoints/support/harness.ts";
import { checkpointOf, expectError, expectOk, leaks, linkedinBasic, login, rpc, secret, stringify, TRANSPORTS } from "../checkpoints/support/helpers.ts";
import { checkerFor, DRIVEN_ENV, round } from "../events/support.ts";
import { expectProblem, restChecked } from "../rest/support.ts";
import { callRpc, type Wire } from "../support/clients.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { startDovecot, type DovecotServer } from "../support/mail/dovecot.ts";
import { mailAuth } from "../support/mail/input.ts";
import { MAIL_PASSWORD, MAIL_USER } from "../support/mail/lab.ts";
import { createTestPki } from "../support/mail/pki.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/mail/smtp.ts";
import { startFakeGoogle, type FakeGoogle } from "../support/oauth/fake-google.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";

type ReconnectRequest = MessageInitShape<typeof ReconnectAccountRequestSchema>;

/** A second mailbox on the same Dovecot: its credentials are good, but not the account's. */
const OTHER_USER = "bert@acme.test";
const OTHER_PASSWORD = secret("other-mailbox");

let dir: string;
let dovecot: DovecotServer;
let smtp: TestSmtpServer;
let google: FakeGoogle;
let microsoft: FakeMicrosoft;
let gateway: ScriptedGateway;
let connectors: ReturnType<typeof createMailConnector | typeof createGoogleConnector | typeof createOutlookConnector>[];
/** Dovecot's password for MAIL_USER now (tests change it, one after the other). */
let mailPassword = MAIL_PASSWORD;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pp-reconnect-"));
  const pki = await createTestPki(dir);
  dovecot = await startDovecot({ user: MAIL_USER, password: MAIL_PASSWORD, certificate: pki.server, otherUsers: [{ user: OTHER_USER, password: OTHER_PASSWORD }] });
  smtp = await startSmtpServer({ user: MAIL_USER, password: MAIL_PASSWORD, mode: "starttls", certificate: pki.server });
  [google, microsoft] = await Promise.all([startFakeGoogle(), startFakeMicrosoft()]);
  gateway = await startScriptedGateway({ qrRotateMs: 150, scanAfterMs: null, pairAfterMs: null, inAppAfterMs: null, slowMs: 1500, maxQrCodes: 1000 });
  const oauth = loadConfig({ ...google.env, ...microsoft.env }).oauth;
  connectors = [
    createMailConnector({ extraCaPem: pki.caPem, connectTimeoutMs: 5_000, guard: loopbackGuard }),
    createGoogleConnector(oauth, loopbackGuard),
    createOutlookConnector(oauth, loopbackGuard),
  ];
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([dovecot?.stop(), smtp?.stop(), google?.close(), microsoft?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** The MAIL variant for the lab's Dovecot (implicit TLS) and SMTP server, whose own login does not change. */
function mail(imapPassword: string, imapUser = MAIL_USER): ReconnectRequest["variant"] {
  return { case: "mail", value: mailAuth({ imap: dovecot.imaps!, smtp: smtp.address, imapEncryption: ImapEncryption.TLS, imapUser, imapPassword, smtpPassword: MAIL_PASSWORD }) };
}

describe.each(["sqlite", "postgres"] as const)("ReconnectAccount on %s", (backend) => {
  let server: CheckpointServer;
  let checker: HealthChecker;
  let workspaceId: string;
  /** PostgreSQL: named, so a second replica can share it. */
  const pgSchema = backend === "postgres" ? `t_reconnect_${randomUUID().replaceAll("-", "").slice(0, 12)}` : undefined;

  beforeAll(async () => {
    server = await startCheckpointServer({ backend, pgSchema, gateways: { LINKEDIN: gateway.address }, connectors, env: { ...DRIVEN_ENV } });
    checker = checkerFor(server, connectors, { ...DRIVEN_ENV, ...google.env, ...microsoft.env });
    workspaceId = (await server.store.findWorkspaceByName("alpha"))!.id;
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** The account's sealed credentials as stored: key id and envelope bytes. */
  const sealedBlob = async (accountId: string) => {
    const secrets = (await server.store.getAccount(workspaceId, accountId))!.secrets!;
    return { keyId: secrets.keyId, envelope: secrets.envelope.toString("base64") };
  };
  /** The account's events, status changes as "FROM>TO". */
  const eventsOf = async (accountId: string) =>
    (await server.store.listEvents(workspaceId, 0, 10_000)).filter((e) => e.accountId === accountId).map((e) => (e.change ? `${e.change.from}>${e.change.to}` : e.type));
  const storedEvents = async () => stringify(await server.store.listEvents(workspaceId, 0, 10_000));

  describe.each(TRANSPORTS)("over %s", (wire: Wire) => {
    const api = () => rpc(server, wire);
    const reconnect = (request: ReconnectRequest, apiKey = server.apiKey) => callRpc(server, wire, AccountService.method.reconnectAccount, request, { apiKey });
    const account = async (accountId: string): Promise<Account> => expectOk(await api().get(accountId)).account!;
    const reconnected = (response: ReconnectAccountResponse): Account => {
      expect(response.object).toBe("AccountReconnected");
      expect(response.outcome.case).toBe("accountReconnected");
      return (response.outcome.value as { account: Account }).account;
    };

    it("mail: a changed Dovecot password makes it CREDENTIALS_EXPIRED; a wrong password or another mailbox change nothing; the new password reconnects it under the same id, and the health check logs in with it; deleted: not_found", async () => {
      const id = expectOk(await api().connect({ variant: mail(mailPassword), country: "de" })).accountId;
      const before = await account(id);
      await round(checker); // first sight: the account gets its place in the schedule
      const next = secret("mail-new");
      await dovecot.setPassword(next);
      mailPassword = next;
      await round(checker);
      expect([AccountStatus[(await account(id)).status], (await account(id)).statusReason]).toEqual(["CREDENTIALS_EXPIRED", "errors/invalid_credentials"]);

      const wrong = secret("mail-wrong");
      expectError(await reconnect({ accountId: id, variant: mail(wrong) }), Code.Unauthenticated, "errors/invalid_credentials");
      expect(AccountStatus[(await account(id)).status]).toBe("CREDENTIALS_EXPIRED");

      const sealed = await sealedBlob(id);
      const mismatch = expectError(await reconnect({ accountId: id, variant: mail(OTHER_PASSWORD, OTHER_USER) }), Code.PermissionDenied, "errors/account_mismatch");
      expect(mismatch.errorInfo?.metadata.accountId).toBe(id);
      expect(await sealedBlob(id)).toEqual(sealed);
      const unchanged = await account(id);
      expect([AccountStatus[unchanged.status], unchanged.statusReason, unchanged.identity?.providerUserId]).toEqual(["CREDENTIALS_EXPIRED", "errors/invalid_credentials", before.identity?.providerUserId]);

      const response = expectOk(await reconnect({ accountId: id, variant: mail(next) }));
      expect(response.accountId).toBe(id);
      const after = reconnected(response);
      expect({ id: after.id, status: AccountStatus[after.status], reason: after.statusReason, created: after.createTime, country: after.options?.country }).toEqual({
        id,
        status: "CONNECTED",
        reason: "",
        created: before.createTime,
        country: "DE",
      });
      expect(await sealedBlob(id)).not.toEqual(sealed);
      await round(checker); // rescheduled as new
      await round(checker); // checked: IMAP and SMTP logins with the sealed new password
      expect(AccountStatus[(await account(id)).status]).toBe("CONNECTED");

      expectOk(await callRpc(server, wire, AccountService.method.deleteAccount, { accountId: id }, { apiKey: server.apiKey }));
      expectError(await reconnect({ accountId: id, variant: mail(next) }), Code.NotFound, "errors/not_found");

      expect(await eventsOf(id)).toEqual([
        "account.connected",
        "CONNECTED>CREDENTIALS_EXPIRED",
        "CREDENTIALS_EXPIRED>RECONNECTING", // the wrong password...
        "RECONNECTING>CREDENTIALS_EXPIRED",
        "CREDENTIALS_EXPIRED>RECONNECTING", // ...another mailbox...
        "RECONNECTING>CREDENTIALS_EXPIRED",
        "CREDENTIALS_EXPIRED>RECONNECTING", // ...the new password
        "RECONNECTING>CONNECTED",
        "account.reconnected",
        "account.deleted",
      ]);
      expect(leaks([next, wrong, OTHER_PASSWORD], { logs: server.logs, events: await storedEvents(), response, mismatch })).toEqual([]);
    }, 60_000);

    it("Google: invalid_grant at a health check makes it CREDENTIALS_EXPIRED; another mailbox's tokens answer account_mismatch with the sealed blob byte-identical; new tokens for the same mailbox reconnect it", async () => {
      const email = `hanna.${backend}.${wire}@example.com`;
      const tokens = google.addUser(email);
      const id = expectOk(await api().connect({ variant: { case: "googleOauth", value: tokens } })).accountId;
      const before = await account(id);
      await round(checker);
      google.expire(tokens.accessToken);
      google.revoke(tokens.refreshToken);
      await round(checker);
      expect(AccountStatus[(await account(id)).status]).toBe("CREDENTIALS_EXPIRED");

      const sealed = await sealedBlob(id);
      const other = google.addUser(`someone.else.${backend}.${wire}@example.com`);
      const mismatch = expectError(await reconnect({ accountId: id, variant: { case: "googleOauth", value: other } }), Code.PermissionDenied, "errors/account_mismatch");
      expect(await sealedBlob(id)).toEqual(sealed);
      expect(AccountStatus[(await account(id)).status]).toBe("CREDENTIALS_EXPIRED");

      const fresh = google.addUser(email);
      const response = expectOk(await reconnect({ accountId: id, variant: { case: "googleOauth", value: fresh } }));
      const after = reconnected(response);
      expect([after.id, AccountStatus[after.status], after.createTime]).toEqual([id, "CONNECTED", before.createTime]);
      const stored = openAccountSecrets(server.sealer, (await server.store.getAccount(workspaceId, id))!.secrets!, workspaceId, id).request.variant.value as { refreshToken: string };
      expect(stored.refreshToken).toBe(fresh.refreshToken);
      await round(checker);
      await round(checker);
      expect(AccountStatus[(await account(id)).status]).toBe("CONNECTED");
      expect(await eventsOf(id)).toEqual([
        "account.connected",
        "CONNECTED>CREDENTIALS_EXPIRED",
        "CREDENTIALS_EXPIRED>RECONNECTING",
        "RECONNECTING>CREDENTIALS_EXPIRED",
        "CREDENTIALS_EXPIRED>RECONNECTING",
        "RECONNECTING>CONNECTED",
        "account.reconnected",
      ]);
      const planted = [fresh.accessToken, fresh.refreshToken, other.accessToken, other.refreshToken];
      expect(leaks(planted, { logs: server.logs, events: await storedEvents(), response, mismatch })).toEqual([]);
    }, 60_000);

    it("Outlook: invalid_grant makes it CREDENTIALS_EXPIRED; another member answers account_mismatch, nothing changed; new tokens reconnect it, the rotated refresh token sealed", async () => {
      const user = { id: randomUUID(), displayName: "Megan Bowen", mail: `megan.${backend}.${wire}@contoso.com`, userPrincipalName: `megan.${backend}.${wire}@contoso.com` };
      const outlook = (tokens: { accessToken: string; refreshToken: string }, who = user) => ({ case: "outlook" as const, value: { ...tokens, id: who.id, username: who.mail } });
      const tokens = microsoft.addUser(user);
      const id = expectOk(await api().connect({ variant: outlook(tokens) })).accountId;
      const before = await account(id);
      await round(checker);
      microsoft.expire(tokens.accessToken);
      microsoft.revoke(tokens.refreshToken);
      await round(checker);
      expect(AccountStatus[(await account(id)).status]).toBe("CREDENTIALS_EXPIRED");

      const sealed = await sealedBlob(id);
      const lee = { id: randomUUID(), displayName: "Lee Gu", mail: `lee.${backend}.${wire}@contoso.com`, userPrincipalName: `lee.${backend}.${wire}@contoso.com` };
      const leeTokens = microsoft.addUser(lee);
      expectError(await reconnect({ accountId: id, variant: outlook(leeTokens, lee) }), Code.PermissionDenied, "errors/account_mismatch");
      expect(await sealedBlob(id)).toEqual(sealed);

      const fresh = microsoft.addUser(user);
      microsoft.expire(fresh.accessToken); // the connector refreshes: Microsoft rotates the refresh token
      const after = reconnected(expectOk(await reconnect({ accountId: id, variant: outlook(fresh) })));
      expect([after.id, AccountStatus[after.status], after.createTime, after.identity?.providerUserId]).toEqual([id, "CONNECTED", before.createTime, user.id]);
      const stored = openAccountSecrets(server.sealer, (await server.store.getAccount(workspaceId, id))!.secrets!, workspaceId, id).request.variant.value as { refreshToken: string };
      expect(stored.refreshToken).not.toBe(fresh.refreshToken);
      expect(stored.refreshToken).not.toBe("");
      expect(leaks([fresh.accessToken, fresh.refreshToken, stored.refreshToken, leeTokens.refreshToken], { logs: server.logs, events: await storedEvents(), after })).toEqual([]);
    }, 60_000);

    it("a checkpoint: RECONNECTING while the code waits (a second reconnect: auth_in_progress), solved → CONNECTED with the options kept; restart replaces a waiting one; cancel → the status before", async () => {
      const username = login("2fa");
      const original = linkedinBasic(username);
      const id = expectOk(await api().connect(original)).accountId;
      expect(expectOk(await api().solve(id, SCRIPT_CODE)).object).toBe("AccountCreated");
      const before = await account(id);

      const password = secret("li-new-password");
      const request: ReconnectRequest = { accountId: id, variant: { case: "linkedinBasic", value: { username, password } } };
      const pending = expectOk(await reconnect(request));
      expect([pending.object, pending.accountId, CheckpointType[checkpointOf(pending)!.type]]).toEqual(["Checkpoint", id, "TWO_FACTOR"]);
      expect(AccountStatus[(await account(id)).status]).toBe("RECONNECTING");
      expectError(await reconnect(request), Code.Aborted, "errors/auth_in_progress");
      // The login went to the provider with the account's options (its proxy and password included).
      const started = gateway.received.filter((r) => r.accountId === id).at(-1)!.request.variant.value as { password: string; proxy?: { password: string }; userAgent: string };
      const originalValue = original.variant!.value as { proxy: { password: string }; userAgent: string };
      expect([started.password, started.proxy?.password, started.userAgent]).toEqual([password, originalValue.proxy.password, originalValue.userAgent]);

      const solved = expectOk(await api().solve(id, SCRIPT_CODE));
      expect([solved.object, solved.accountId]).toEqual(["AccountCreated", id]);
      const after = await account(id);
      expect({ status: AccountStatus[after.status], created: after.createTime, options: after.options }).toEqual({ status: "CONNECTED", created: before.createTime, options: before.options });

      expect(checkpointOf(expectOk(await reconnect(request)))).toBeDefined();
      expect(checkpointOf(expectOk(await reconnect({ ...request, restart: true })))).toBeDefined();
      expect(AccountStatus[(await account(id)).status]).toBe("RECONNECTING");
      expectOk(await api().cancel(id));
      const canceled = await account(id);
      expect([AccountStatus[canceled.status], canceled.statusReason]).toEqual(["CONNECTED", ""]);
      expect(await eventsOf(id)).toEqual(["account.connected", "CONNECTED>RECONNECTING", "RECONNECTING>CONNECTED", "account.reconnected", "CONNECTED>RECONNECTING", "RECONNECTING>CONNECTED"]);
      expect(leaks([password, originalValue.proxy.password], { logs: server.logs, events: await storedEvents(), pending, solved, after })).toEqual([]);
    }, 60_000);

    it("deleted while a reconnection waits at its checkpoint: the code then answers not_found, the account stays DELETED without its secrets, the intent ends FAILED with its sealed request erased", async () => {
      const username = login("2fa");
      const id = expectOk(await api().connect(linkedinBasic(username))).accountId;
      expect(expectOk(await api().solve(id, SCRIPT_CODE)).object).toBe("AccountCreated");
      const password = secret("li-deleted-meanwhile");
      const pending = expectOk(await reconnect({ accountId: id, variant: { case: "linkedinBasic", value: { username, password } } }));
      expect(checkpointOf(pending)).toBeDefined();
      expect(AccountStatus[(await account(id)).status]).toBe("RECONNECTING");
      const waiting = (await server.store.getIntentByAccountId(workspaceId, id))!;
      expect(waiting.secrets).not.toBeNull();

      expectOk(await callRpc(server, wire, AccountService.method.deleteAccount, { accountId: id }, { apiKey: server.apiKey }));
      // The login succeeds at the provider, and the account it would replace is gone.
      expectError(await api().solve(id, SCRIPT_CODE), Code.NotFound, "errors/not_found");
      const stored = (await server.store.getAccount(workspaceId, id))!;
      expect([stored.status, stored.secrets]).toEqual(["DELETED", null]);
      const ended = (await server.store.getIntent(workspaceId, waiting.id))!;
      expect([ended.status, ended.errorKind, ended.secrets, ended.closedAt !== null]).toEqual(["FAILED", "not_found", null, true]);
      expect(await eventsOf(id)).toEqual(["account.connected", "CONNECTED>RECONNECTING", "account.deleted"]);
      expect(leaks([password], { logs: server.logs, events: await storedEvents(), pending })).toEqual([]);
    }, 60_000);

    // One REST pass per store: the wire of this describe plays no part (skipped, not passed, on the others).
    it.runIf(wire === "grpc")("over REST too (POST /api/v1/accounts/{id}, the flat body): 200 AccountReconnected, another mailbox 403 account_mismatch, another variant 400 naming provider; the answers conform to docs/openapi.json", async () => {
      const email = `rest.${backend}@example.com`;
      const id = expectOk(await api().connect({ variant: { case: "googleOauth", value: google.addUser(email) } })).accountId;
      const path = `/api/v1/accounts/${id}`;
      const flat = (tokens: { accessToken: string; refreshToken: string }) => ({ provider: "GOOGLE_OAUTH", access_token: tokens.accessToken, refresh_token: tokens.refreshToken });
      const sealed = await sealedBlob(id);
      expectProblem(await restChecked(server.httpUrl, "POST", path, { apiKey: server.apiKey, body: flat(google.addUser(`rest.other.${backend}@example.com`)) }), 403, "errors/account_mismatch");
      expect(await sealedBlob(id)).toEqual(sealed);
      const wrongVariant = await restChecked(server.httpUrl, "POST", path, { apiKey: server.apiKey, body: { provider: "LINKEDIN", username: "anna", password: "pw" } });
      expectProblem(wrongVariant, 400, "errors/invalid_parameters");
      expect((wrongVariant.body.invalid_params as { name: string }[]).map((p) => p.name)).toEqual(["provider"]);
      const fresh = google.addUser(email);
      const ok = await restChecked(server.httpUrl, "POST", path, { apiKey: server.apiKey, body: flat(fresh) });
      expect([ok.status, ok.body]).toEqual([200, { object: "AccountReconnected", account_id: id }]);
      expect(AccountStatus[(await account(id)).status]).toBe("CONNECTED");
      expect(leaks([fresh.accessToken, fresh.refreshToken], { logs: server.logs, ok: ok.body })).toEqual([]);
    }, 60_000);

    it("another variant than the account's: invalid_parameters naming it; an unknown id or another workspace's account: not_found; a key without accounts:write: scope_required", async () => {
      const id = expectOk(await api().connect(linkedinBasic(login("ok")))).accountId;
      const otherVariant = expectError(await reconnect({ accountId: id, variant: mail(mailPassword) }), Code.InvalidArgument, "errors/invalid_parameters");
      expect(otherVariant.badRequest?.fieldViolations.map((v) => v.field)).toEqual(["mail"]);
      const variant: ReconnectRequest["variant"] = { case: "linkedinBasic", value: { username: "ok+nobody", password: "pw" } };
      expectError(await reconnect({ accountId: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", variant }), Code.NotFound, "errors/not_found");
      expectError(await reconnect({ accountId: id, variant }, server.otherApiKey), Code.NotFound, "errors/not_found");
      const reader = (await createApiKey(server.store, "alpha", "reader", ["accounts:read"])).token;
      const refused = expectError(await reconnect({ accountId: id, variant }, reader), Code.PermissionDenied, "errors/scope_required");
      expect(refused.errorInfo?.metadata.scope).toBe("accounts:write");
      expect(AccountStatus[(await account(id)).status]).toBe("CONNECTED");
    }, 60_000);
  });

  it.runIf(backend === "postgres")("across replicas: a reconnection's checkpoint answered on one replica is solved on another, and one canceled there puts the account back", async () => {
    const other = await startCheckpointServer({ backend, pgSchema, seed: false, keys: { apiKey: server.apiKey, otherApiKey: server.otherApiKey }, sealer: server.sealer, gateways: { LINKEDIN: gateway.address }, connectors, env: { ...DRIVEN_ENV } });
    try {
      const [a, b] = [rpc(server, "grpc"), rpc(other, "connect-binary")];
      const username = login("2fa");
      const id = expectOk(await a.connect(linkedinBasic(username))).accountId;
      expectOk(await b.solve(id, SCRIPT_CODE));
      const created = expectOk(await b.get(id)).account!.createTime;
      const request: ReconnectRequest = { accountId: id, variant: { case: "linkedinBasic", value: { username, password: secret("li-replica") } } };
      const onA = (r: ReconnectRequest) => callRpc(server, "grpc", AccountService.method.reconnectAccount, r, { apiKey: server.apiKey });
      expect(checkpointOf(expectOk(await onA(request)))).toBeDefined();
      expect(AccountStatus[expectOk(await b.get(id)).account!.status]).toBe("RECONNECTING");
      const solved = expectOk(await b.solve(id, SCRIPT_CODE));
      expect([solved.object, solved.accountId]).toEqual(["AccountCreated", id]);
      const after = expectOk(await a.get(id)).account!;
      expect([AccountStatus[after.status], after.createTime]).toEqual(["CONNECTED", created]);

      expect(checkpointOf(expectOk(await onA(request)))).toBeDefined();
      expectOk(await b.cancel(id));
      expect(AccountStatus[expectOk(await a.get(id)).account!.status]).toBe("CONNECTED");
    } finally {
      await other.close();
    }
  }, 60_000);
});
