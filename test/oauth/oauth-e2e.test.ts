import { type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { AuthMethod, Provider } from "../../gen/postpress/accounts/v1/account_pb.js";
import { createGoogleConnector } from "../../src/domain/connectors/google/google-connector.ts";
import { loadConfig } from "../../src/config.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import { googleAnswers, startFakeGoogle, type FakeGoogle } from "../support/oauth/fake-google.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import { leaks } from "../support/oauth/harness.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { openAccountSecrets } from "../../src/domain/accounts/account-secrets.ts";
import { openCredentials } from "../../src/domain/credentials/sealed-credentials.ts";

/** The OAuth connectors inside the real server, through every wire the clients speak. */

let google: FakeGoogle;
let microsoft: FakeMicrosoft;
let server: TestServer;

beforeAll(async () => {
  [google, microsoft] = await Promise.all([startFakeGoogle(), startFakeMicrosoft()]);
  const config = loadConfig({ ...google.env, ...microsoft.env }).oauth;
  const connectors = [createGoogleConnector(config, loopbackGuard), createOutlookConnector(config, loopbackGuard)];
  server = await startTestServer({ connectors });
});
afterAll(async () => {
  await server?.close();
  await Promise.all([google?.close(), microsoft?.close()]);
});
afterEach(() => {
  expect(leaks(server.logs, [...google.secrets(), ...microsoft.secrets()])).toEqual([]);
  google.reset();
  microsoft.reset();
});

type Variant = MessageInitShape<typeof ConnectAccountRequestSchema>["variant"];

describe.each(WIRES)("over %s", (wire: Wire) => {
  const connect = (variant: Variant) => callRpc(server, wire, AccountService.method.connectAccount, { variant }, { apiKey: server.apiKey });
  const getAccount = async (accountId: string) => {
    const got = await callRpc(server, wire, AccountService.method.getAccount, { accountId }, { apiKey: server.apiKey });
    if (!got.ok) throw new Error(`GetAccount failed: ${got.error.message}`);
    return got.response.account!;
  };
  const connected = async (variant: Variant) => {
    const result = await connect(variant);
    if (!result.ok) throw new Error(`ConnectAccount failed: ${result.error.errorInfo?.metadata.type} ${result.error.message}`);
    return result.response.accountId;
  };
  const failed = async (variant: Variant) => {
    const result = await connect(variant);
    if (result.ok) throw new Error("expected ConnectAccount to fail");
    return result.error;
  };

  it("links a Gmail mailbox with the address Google returned, and refuses the same mailbox twice", async () => {
    const email = `Anna.${wire}@Example.com`;
    const accountId = await connected({ case: "googleOauth", value: google.addUser(email) });

    const account = await getAccount(accountId);
    expect(account.provider).toBe(Provider.GOOGLE_OAUTH);
    expect(account.authMethod).toBe(AuthMethod.GOOGLE_OAUTH);
    expect(account.identity).toMatchObject({ providerUserId: email.toLowerCase(), email });

    // Other tokens for the same mailbox, which Google spells in capitals this time.
    const again = await failed({ case: "googleOauth", value: google.addUser(email.toUpperCase()) });
    expect(again.code).toBe(Code.AlreadyExists);
    expect(again.errorInfo?.metadata).toMatchObject({ type: "errors/already_exists", accountId });
  });

  it("links an Outlook account by its Graph id, and refuses the same account twice", async () => {
    const user = { id: randomUUID(), displayName: "Megan Bowen", mail: `MeganB.${wire}@contoso.com`, userPrincipalName: `megan.${wire}@contoso.onmicrosoft.com` };
    const request = { id: user.id, username: user.mail.toLowerCase() };
    const accountId = await connected({ case: "outlook", value: { ...microsoft.addUser(user), ...request } });

    const account = await getAccount(accountId);
    expect(account.provider).toBe(Provider.OUTLOOK);
    expect(account.identity).toMatchObject({ providerUserId: user.id, email: user.mail, displayName: "Megan Bowen" });

    const again = await failed({ case: "outlook", value: { ...microsoft.addUser(user), ...request } });
    expect(again.code).toBe(Code.AlreadyExists);
    expect(again.errorInfo?.metadata.type).toBe("errors/already_exists");
  });

  it("stores the refreshed access token, sealed, with its expiry", async () => {
    const tokens = google.addUser(`refresh.${wire}@example.com`);
    google.expire(tokens.accessToken);

    const accountId = await connected({ case: "googleOauth", value: tokens });

    const account = await getAccount(accountId);
    const expiresAt = Number(account.accessTokenExpireTime!.seconds) * 1000;
    expect(expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    const workspace = await server.store.findWorkspaceByName("alpha");
    const record = await server.store.getAccount(workspace!.id, accountId);
    const sealed = openAccountSecrets(server.sealer, record!.secrets!, workspace!.id, accountId).request;
    expect(sealed.variant.case).toBe("googleOauth");
    const stored = sealed.variant.value as { accessToken: string; refreshToken: string };
    expect(stored.refreshToken).toBe(tokens.refreshToken);
    expect(stored.accessToken).not.toBe(tokens.accessToken);
    // The stored token is the one Google issued on the refresh.
    expect(google.requestsTo("profile").at(-1)!.headers.authorization).toBe(`Bearer ${stored.accessToken}`);
    // The domain's sealed credentials carry the token's expiry, the one the account answers (in whole seconds).
    const { family } = openCredentials(server.sealer, record!.secrets!, workspace!.id, accountId).credentials;
    const sealedExpiry = family.case === "oauth" && family.value.accessTokenExpiresAt ? timestampMs(family.value.accessTokenExpiresAt) : 0;
    expect(Math.floor(sealedExpiry / 1000) * 1000).toBe(expiresAt);
  });

  it("answers the provider's refusals with the catalogue's wire errors", async () => {
    const revoked = google.addUser(`revoked.${wire}@example.com`);
    google.expire(revoked.accessToken);
    google.revoke(revoked.refreshToken);
    const invalid = await failed({ case: "googleOauth", value: revoked });
    expect(invalid.code).toBe(Code.Unauthenticated);
    expect(invalid.errorInfo?.metadata).toMatchObject({ type: "errors/invalid_credentials", provider: "google", providerReason: "invalid_grant" });

    google.script("profile", googleAnswers.tooManyRequests("7"));
    const throttled = await failed({ case: "googleOauth", value: google.addUser(`throttled.${wire}@example.com`) });
    expect(throttled.code).toBe(Code.Unavailable);
    expect(throttled.errorInfo?.metadata).toMatchObject({ type: "errors/provider_error", status: "429" });
    expect(throttled.retryInfo?.retryDelay?.seconds).toBe(7n);

    const user = { id: randomUUID(), displayName: "Lee Gu", mail: `LeeG.${wire}@contoso.com`, userPrincipalName: `lee.${wire}@contoso.com` };
    const mismatch = await failed({ case: "outlook", value: { ...microsoft.addUser(user), id: user.id, username: "someone.else@contoso.com" } });
    expect(mismatch.code).toBe(Code.PermissionDenied);
    expect(mismatch.errorInfo?.metadata).toMatchObject({ type: "errors/account_mismatch", mismatch: "username" });
  });
});
