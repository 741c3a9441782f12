/**
 * A health check and GetCredentials refresh a stored OAuth token through the one refresher
 * (its lock): a check that read the account before GetCredentials refreshed it, and then meets
 * the provider's 401 with the old access token, renews through the refresher, which finds the
 * token already replaced and refreshes nothing. Before, the check refreshed with the old
 * refresh token on its own: two refreshes (with Microsoft's rotation, two refresh tokens) and
 * a write of its own over GetCredentials'. Both stores, the real fake Microsoft endpoints.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { loadConfig } from "../../src/config.ts";
import type { Connector } from "../../src/domain/connectors/connector.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import { openCredentials } from "../../src/domain/credentials/account-credentials.ts";
import { callRpc } from "../support/clients.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import type { FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import type { TestServer } from "../support/server.ts";
import { checkerFor, DRIVEN_ENV, round } from "../events/support.ts";
import { closeCredentialsServer, startCredentialsServer } from "./credentials-server.ts";
import { outlookRequest, seedAccount } from "./support.ts";

/** The Outlook connector, held at its start while `hold` is set: the test decides what happens between a check's claim and its provider call. */
function gated(inner: Connector<"outlook">) {
  let entered: (() => void) | undefined;
  let release: Promise<void> | undefined;
  return {
    connector: { variants: inner.variants, connect: async (input: Parameters<typeof inner.connect>[0]) => (entered?.(), await release, inner.connect(input)) } satisfies Connector<"outlook">,
    /** Holds the next calls; resolves `open` releases them; `reached` once one is held. */
    hold() {
      let open!: () => void;
      release = new Promise<void>((resolve) => (open = resolve));
      const reached = new Promise<void>((resolve) => (entered = resolve));
      return { reached, open: () => (open(), (entered = undefined), (release = undefined)) };
    },
  };
}

describe.each(["sqlite", "postgres"] as const)("a health check's refresh on %s", (backend) => {
  let microsoft: FakeMicrosoft;
  let server: TestServer;
  let key: string;
  let workspaceId: string;

  beforeAll(async () => {
    ({ microsoft, server, key, workspaceId } = await startCredentialsServer(backend));
  }, 60_000);
  afterAll(() => closeCredentialsServer({ microsoft, server }));

  it("a check holding the old access token renews through the refresher: one refresh in all, GetCredentials' token stays stored, the account CONNECTED", async () => {
    const env = { ...DRIVEN_ENV, ...microsoft.env };
    const gate = gated(createOutlookConnector(loadConfig(env).oauth, loopbackGuard));
    const checker = checkerFor(server, [gate.connector], env);
    const user = { id: randomUUID(), displayName: "Ada", mail: `ada.${backend}@contoso.com`, userPrincipalName: `ada.${backend}@contoso.com` };
    const tokens = microsoft.addUser(user);
    // Due for GetCredentials (expired a minute ago), and Microsoft no longer takes the access token.
    const account = await seedAccount(server.store, server.sealer, workspaceId, outlookRequest(tokens, user), { provider: "OUTLOOK", providerUserId: user.id, accessTokenExpiresAt: new Date(Date.now() - 60_000) });
    microsoft.expire(tokens.accessToken);
    await round(checker); // first sight: a place in the schedule

    const held = gate.hold();
    const checking = round(checker);
    await held.reached; // the check has claimed the account, with the old token
    const before = microsoft.requestsTo("token").length;
    const read = await callRpc(server, "grpc", CredentialService.method.getCredentials, { accountId: account.id }, { apiKey: key, timeoutMs: 30_000 });
    if (!read.ok) throw new Error(JSON.stringify(read.error));
    const refreshed = (read.response.credentials.value as { accessToken: string }).accessToken;
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
    const afterRead = (await server.store.getAccount(workspaceId, account.id))!;

    held.open();
    expect(await checking).toBe(1);
    // The check's 401 went to the refresher, which found the token replaced: no second refresh, nothing written.
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
    const me = microsoft.requestsTo("me").map((r) => r.headers.authorization);
    expect(me.slice(-2)).toEqual([`Bearer ${tokens.accessToken}`, `Bearer ${refreshed}`]);
    const stored = (await server.store.getAccount(workspaceId, account.id))!;
    expect(stored.status).toBe("CONNECTED");
    expect(stored.secrets).toEqual(afterRead.secrets);
    expect(openCredentials(server.sealer, { ...stored, secrets: stored.secrets! })).toMatchObject({ kind: "oauth", accessToken: refreshed });
  }, 60_000);

  it("a check whose token the provider refuses before its expiry refreshes it through the refresher, which stores it (no second refresh for the next read)", async () => {
    const env = { ...DRIVEN_ENV, ...microsoft.env };
    const checker = checkerFor(server, [createOutlookConnector(loadConfig(env).oauth, loopbackGuard)], env);
    const user = { id: randomUUID(), displayName: "Bo", mail: `bo.${backend}@contoso.com`, userPrincipalName: `bo.${backend}@contoso.com` };
    const tokens = microsoft.addUser(user);
    const account = await seedAccount(server.store, server.sealer, workspaceId, outlookRequest(tokens, user), { provider: "OUTLOOK", providerUserId: user.id, accessTokenExpiresAt: new Date(Date.now() + 3_600_000) });
    microsoft.expire(tokens.accessToken); // revoked early: not due by its expiry
    await round(checker);
    const before = microsoft.requestsTo("token").length;
    await round(checker); // (the first test's account is checked again too: its token is good)
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
    const stored = (await server.store.getAccount(workspaceId, account.id))!;
    const credentials = openCredentials(server.sealer, { ...stored, secrets: stored.secrets! });
    expect(stored.status).toBe("CONNECTED");
    expect(credentials).toMatchObject({ kind: "oauth" });
    expect(credentials.kind === "oauth" && [credentials.accessToken === tokens.accessToken, credentials.refreshToken === tokens.refreshToken]).toEqual([false, false]);
    const read = await callRpc(server, "grpc", CredentialService.method.getCredentials, { accountId: account.id }, { apiKey: key, timeoutMs: 30_000 });
    expect(read.ok && (read.response.credentials.value as { accessToken: string }).accessToken).toBe(credentials.kind === "oauth" && credentials.accessToken);
    expect(microsoft.requestsTo("token").length).toBe(before + 1);
  }, 60_000);
});
