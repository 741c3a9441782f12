import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { Provider } from "../../gen/postpress/accounts/v1/account_pb.js";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { openCredentials } from "../../src/domain/credentials/account-credentials.ts";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import { microsoftAnswers, type FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { closeCredentialsServer, startCredentialsServer } from "./credentials-server.ts";
import { auditLines, credentialsKey, linkedinCookieRequest, mailRequest, outlookRequest, planted, seedAccount } from "./support.ts";

const getCredentials = CredentialService.method.getCredentials;
const HOUR = 3_600_000;

/**
 * GetCredentials through the real transports, on both stores: what a credentials:read key
 * reads, who is refused, the refresh of a token that is due (and its refusal and outage),
 * the audit line of every read, and no credential in any log line.
 */
describe.each(["sqlite", "postgres"] as const)("GetCredentials on %s", (backend) => {
  let microsoft: FakeMicrosoft;
  let server: TestServer;
  let key: string;
  let workspaceId: string;

  beforeAll(async () => {
    ({ microsoft, server, key, workspaceId } = await startCredentialsServer(backend, { metrics: true }));
  }, 60_000);
  afterAll(() => closeCredentialsServer({ microsoft, server }));

  const call = (wire: Wire, accountId: string, apiKey = key, includeRefreshToken = false) =>
    callRpc(server, wire, getCredentials, { accountId, includeRefreshToken }, { apiKey, timeoutMs: 30_000 });

  const outlookAccount = async (expiresAt: Date) => {
    const user = { id: `graph-${Math.random().toString(36).slice(2)}`, displayName: "Ada", mail: "ada@contoso.com", userPrincipalName: "ada@contoso.com" };
    const tokens = microsoft.addUser(user);
    const account = await seedAccount(server.store, server.sealer, workspaceId, outlookRequest(tokens, user), { provider: "OUTLOOK", providerUserId: user.id, accessTokenExpiresAt: expiresAt });
    return { account, tokens };
  };

  it.each(WIRES)("a credentials:read key reads a mailbox's IMAP and SMTP logins (%s)", async (wire) => {
    const account = await seedAccount(server.store, server.sealer, workspaceId, mailRequest(), { provider: "MAIL", providerUserId: `mail-${wire}` });
    const result = await call(wire, account.id);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.response.provider).toBe(Provider.MAIL);
    expect(result.response.credentials.case).toBe("mail");
    const mail = result.response.credentials.value as { imap: object; smtp: object };
    expect(mail.imap).toMatchObject({ host: "imap.example.com", port: 993, username: "ada@example.com", password: planted.imapPassword });
    expect(mail.smtp).toMatchObject({ host: "smtp.example.com", port: 465, username: "ada@example.com", password: planted.smtpPassword });
  });

  it.each(WIRES)("a key without credentials:read (accounts:*, events, webhooks) is refused errors/scope_required (%s)", async (wire) => {
    const account = await seedAccount(server.store, server.sealer, workspaceId, mailRequest(), { provider: "MAIL", providerUserId: `refused-${wire}` });
    const result = await call(wire, account.id, server.apiKey);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(Code.PermissionDenied);
    expect(result.error.errorInfo?.metadata.type).toBe("errors/scope_required");
    expect(result.error.errorInfo?.metadata.scope).toBe("credentials:read");
  });

  it("a provider-session account: its cookies and user agent, and the proxy to use with its password", async () => {
    const account = await seedAccount(server.store, server.sealer, workspaceId, linkedinCookieRequest(), { provider: "LINKEDIN", providerUserId: "li-1" });
    const result = await call("grpc", account.id);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(result.response.provider).toBe(Provider.LINKEDIN);
    expect(result.response.credentials).toMatchObject({
      case: "providerSession",
      value: { format: "", session: "", userAgent: "Mozilla/5.0 (bench)", cookies: [expect.objectContaining({ name: "li_at", value: planted.liAt, domain: ".linkedin.com" })] },
    });
    expect(result.response.proxy).toMatchObject({ protocol: ProxyProtocol.SOCKS5, host: "203.0.113.10", port: 1080, username: "px", password: planted.proxyPassword });
  });

  it("an unexpired OAuth token is answered as stored, with no provider call; the refresh token only when asked for", async () => {
    const expiresAt = new Date(Date.now() + HOUR);
    const { account, tokens } = await outlookAccount(expiresAt);
    const before = microsoft.requestsTo("token").length;
    const plain = await call("grpc", account.id);
    const withRefresh = await call("connect-json", account.id, key, true);
    expect(microsoft.requestsTo("token").length).toBe(before);
    if (!plain.ok || !withRefresh.ok) throw new Error(JSON.stringify([plain, withRefresh]));
    expect(plain.response.credentials).toMatchObject({ case: "oauth", value: { accessToken: tokens.accessToken, refreshToken: "" } });
    const expiry = (plain.response.credentials.value as { accessTokenExpireTime?: { seconds: bigint } }).accessTokenExpireTime;
    expect(Number(expiry?.seconds)).toBe(Math.floor(expiresAt.getTime() / 1000));
    expect(withRefresh.response.credentials).toMatchObject({ case: "oauth", value: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } });
  });

  it("an expired token is refreshed first: the new access token is answered, and it and Microsoft's rotated refresh token are stored sealed", async () => {
    const { account, tokens } = await outlookAccount(new Date(Date.now() - 60_000));
    microsoft.expire(tokens.accessToken);
    const before = microsoft.requestsTo("token").length;
    const result = await call("grpc-web", account.id, key, true);
    if (!result.ok) throw new Error(JSON.stringify(result.error));
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
    const oauth = result.response.credentials.value as { accessToken: string; refreshToken: string; scopes: string[] };
    expect(oauth.accessToken).not.toBe(tokens.accessToken);
    expect(oauth.refreshToken).not.toBe(tokens.refreshToken);
    expect(oauth.scopes).toContain("https://graph.microsoft.com/Mail.ReadWrite");
    const stored = (await server.store.getAccount(workspaceId, account.id))!;
    expect(stored.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect(stored.secrets!.envelope.includes(Buffer.from(oauth.refreshToken))).toBe(false);
    expect(openCredentials(server.sealer, { ...stored, secrets: stored.secrets! })).toMatchObject({ kind: "oauth", accessToken: oauth.accessToken, refreshToken: oauth.refreshToken });
    expect(stored.grantedScopes).toEqual(oauth.scopes);
    // The next read finds the token fresh: no second refresh, and the scopes stored with it.
    const again = await call("grpc", account.id);
    expect(again.ok && again.response.credentials.value).toMatchObject({ accessToken: oauth.accessToken, scopes: oauth.scopes });
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
  });

  it("20 concurrent reads of one due token on one server share one refresh (the in-process lock; the embedded store has no other)", async () => {
    const { account, tokens } = await outlookAccount(new Date(Date.now() - 60_000));
    microsoft.expire(tokens.accessToken);
    const before = microsoft.requestsTo("token").length;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? "grpc" : "connect-binary", account.id)));
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
    const accessTokens = new Set(answers.map((a) => (a.ok ? (a.response.credentials.value as { accessToken: string }).accessToken : "")));
    expect(accessTokens.size).toBe(1);
    expect(accessTokens.has(tokens.accessToken)).toBe(false);
  });

  it("a refresh the provider refuses (invalid_grant) marks the account CREDENTIALS_EXPIRED, with its event, and answers invalid_credentials", async () => {
    const { account, tokens } = await outlookAccount(new Date(Date.now() - 60_000));
    microsoft.revoke(tokens.refreshToken);
    const result = await call("connect-binary", account.id);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(Code.Unauthenticated);
    expect(result.error.errorInfo?.metadata.type).toBe("errors/invalid_credentials");
    const stored = (await server.store.getAccount(workspaceId, account.id))!;
    expect(stored).toMatchObject({ status: "CREDENTIALS_EXPIRED", statusReason: "errors/invalid_credentials" });
    const events = (await server.store.listEvents(workspaceId, 0, 1000)).filter((e) => e.accountId === account.id);
    expect(events.map((e) => [e.type, e.change])).toEqual([
      ["account.connected", null],
      ["account.status_changed", { from: "CONNECTED", to: "CREDENTIALS_EXPIRED", reason: "errors/invalid_credentials" }],
    ]);
    // From now on the account answers invalid_credentials without asking the provider.
    const before = microsoft.requestsTo("token").length;
    const again = await call("grpc", account.id);
    expect(!again.ok && again.error.errorInfo?.metadata.type).toBe("errors/invalid_credentials");
    expect(microsoft.requestsTo("token").length).toBe(before);
  });

  it("a provider outage answers provider_error with RetryInfo and leaves the account as it was", async () => {
    const { account } = await outlookAccount(new Date(Date.now() - 60_000));
    microsoft.script("token", { ...microsoftAnswers.serviceUnavailable, headers: { "retry-after": "7" } });
    const result = await call("grpc", account.id);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(Code.Unavailable);
    expect(result.error.errorInfo?.metadata.type).toBe("errors/provider_error");
    expect(result.error.retryInfo?.retryDelay?.seconds).toBe(7n);
    const stored = (await server.store.getAccount(workspaceId, account.id))!;
    expect(stored.status).toBe("CONNECTED");
    expect(stored.secrets).toEqual(account.secrets);
    expect(stored.accessTokenExpiresAt).toEqual(account.accessTokenExpiresAt);
  });

  it("an unknown account is not_found", async () => {
    const result = await call("grpc", "acc_01J00000000000000000000000");
    expect(!result.ok && result.error.errorInfo?.metadata.type).toBe("errors/not_found");
  });

  it("every read wrote one audit line (key, workspace, account, kinds, never a value), was counted, and no credential is in any log line", async () => {
    const audits = auditLines(server.logs);
    // 4 mail reads, 1 provider session, 2 + 2 + 20 + 2 OAuth reads, 1 outage, 1 not_found: every one audited.
    expect(audits.length).toBe(4 + 1 + 2 + 2 + 20 + 2 + 1 + 1);
    const keyId = (await server.store.listApiKeys(workspaceId)).find((k) => k.label === "mail-sync")!.id;
    for (const line of audits) {
      expect(line).toMatchObject({ keyId, workspace: workspaceId, accountId: expect.stringMatching(/^acc_/), kinds: expect.any(Array), outcome: expect.any(String), refreshed: expect.any(Boolean) });
    }
    expect(audits.filter((l) => l.outcome === "ok").map((l) => (l.kinds as string[])[0])).toEqual(expect.arrayContaining(["mail", "oauth", "provider_session"]));
    expect(audits.some((l) => (l.kinds as string[]).join() === "provider_session,proxy")).toBe(true);
    expect(audits.some((l) => l.outcome === "invalid_credentials")).toBe(true);
    expect(audits.some((l) => l.outcome === "ok" && (l.kinds as string[]).includes("refresh_token") && l.refreshed === true)).toBe(true);
    const secrets = [...Object.values(planted), ...microsoft.secrets(), key];
    const leaked = secrets.filter((secret) => server.logs.some((line) => line.includes(secret)));
    expect(leaked).toEqual([]);
    const metrics = await (await fetch(`${server.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/postpress_accounts_credential_reads_total\{kind="mail",outcome="ok",refreshed="false"\} [1-9]/);
    expect(metrics).toMatch(/postpress_accounts_credential_reads_total\{kind="oauth",outcome="ok",refreshed="true"\} [1-9]/);
  });
});

describe("CREDENTIALS_SERVICE", () => {
  it.each([
    ["off", WIRES],
    ["grpc", WIRES.filter((wire) => wire !== "grpc")],
  ] as const)("%s: UNIMPLEMENTED errors/service_disabled on %j, for a key that may read credentials", async (setting, refused) => {
    const server = await startTestServer(setting === "off" ? {} : { env: { CREDENTIALS_SERVICE: setting } });
    try {
      const key = await credentialsKey(server.store);
      const workspaceId = (await server.store.findWorkspaceByName("alpha"))!.id;
      const account = await seedAccount(server.store, server.sealer, workspaceId, mailRequest(), { provider: "MAIL", providerUserId: "off" });
      for (const wire of WIRES) {
        const result = await callRpc(server, wire, getCredentials, { accountId: account.id }, { apiKey: key, timeoutMs: 30_000 });
        if ((refused as readonly string[]).includes(wire)) {
          expect(result.ok, wire).toBe(false);
          if (result.ok) continue;
          expect(result.error.code, wire).toBe(Code.Unimplemented);
          expect(result.error.errorInfo?.metadata.type, wire).toBe("errors/service_disabled");
        } else {
          expect(result.ok, wire).toBe(true);
        }
      }
    } finally {
      await server.close();
    }
  });
});
