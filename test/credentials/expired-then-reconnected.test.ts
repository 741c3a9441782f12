/**
 * Issue 16's chain in one piece, on both stores, through the real transports and the fake
 * Microsoft endpoints: GetCredentials meets a refused refresh (the account becomes
 * CREDENTIALS_EXPIRED and answers invalid_credentials), another mailbox's tokens are refused
 * with the sealed blob byte-identical, ReconnectAccount with good tokens brings it back under
 * the same id and create time, and GetCredentials then answers the new token.
 */
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountService, type ConnectAccountRequestSchema, type ReconnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { loadConfig } from "../../src/config.ts";
import { openCredentials } from "../../src/domain/credentials/account-credentials.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import { callRpc } from "../support/clients.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import type { FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import type { TestServer } from "../support/server.ts";
import { closeCredentialsServer, startCredentialsServer } from "./credentials-server.ts";

describe.each(["sqlite", "postgres"] as const)("expired, then reconnected, on %s", (backend) => {
  let microsoft: FakeMicrosoft;
  let server: TestServer;
  let key: string;
  let workspaceId: string;

  beforeAll(async () => {
    ({ microsoft, server, key, workspaceId } = await startCredentialsServer(backend, { connectors: (env) => [createOutlookConnector(loadConfig(env).oauth, loopbackGuard)] }));
  }, 60_000);
  afterAll(() => closeCredentialsServer({ microsoft, server }));

  const getCredentials = (accountId: string) => callRpc(server, "grpc", CredentialService.method.getCredentials, { accountId }, { apiKey: key, timeoutMs: 30_000 });
  const options = () => ({ apiKey: server.apiKey, timeoutMs: 30_000 });
  const connect = (request: MessageInitShape<typeof ConnectAccountRequestSchema>) => callRpc(server, "connect-binary", AccountService.method.connectAccount, request, options());
  const reconnect = (request: MessageInitShape<typeof ReconnectAccountRequestSchema>) => callRpc(server, "connect-binary", AccountService.method.reconnectAccount, request, options());
  const sealedBlob = async (id: string) => {
    const { secrets } = (await server.store.getAccount(workspaceId, id))!;
    return { keyId: secrets!.keyId, envelope: secrets!.envelope.toString("base64") };
  };

  it("refused refresh → CREDENTIALS_EXPIRED + invalid_credentials; another mailbox → account_mismatch, blob unchanged; good tokens → CONNECTED, same id and create time; GetCredentials answers the new token", async () => {
    const user = { id: randomUUID(), displayName: "Megan Bowen", mail: `megan.${backend}@contoso.com`, userPrincipalName: `megan.${backend}@contoso.com` };
    const outlook = (tokens: { accessToken: string; refreshToken: string }, who = user) => ({ case: "outlook" as const, value: { ...tokens, id: who.id, username: who.mail } });
    const tokens = microsoft.addUser(user);
    const connected = await connect({ variant: outlook(tokens) });
    if (!connected.ok) throw new Error(JSON.stringify(connected.error));
    const id = connected.response.accountId;
    const created = (await server.store.getAccount(workspaceId, id))!;

    // The token is due (its expiry unknown) and Microsoft refuses the refresh token.
    microsoft.revoke(tokens.refreshToken);
    const refused = await getCredentials(id);
    expect(!refused.ok && [refused.error.code, refused.error.errorInfo?.metadata.type]).toEqual([Code.Unauthenticated, "errors/invalid_credentials"]);
    expect(await server.store.getAccount(workspaceId, id)).toMatchObject({ status: "CREDENTIALS_EXPIRED", statusReason: "errors/invalid_credentials" });

    const sealed = await sealedBlob(id);
    const lee = { id: randomUUID(), displayName: "Lee Gu", mail: `lee.${backend}@contoso.com`, userPrincipalName: `lee.${backend}@contoso.com` };
    const mismatch = await reconnect({ accountId: id, variant: outlook(microsoft.addUser(lee), lee) });
    expect(!mismatch.ok && [mismatch.error.code, mismatch.error.errorInfo?.metadata.type]).toEqual([Code.PermissionDenied, "errors/account_mismatch"]);
    expect(await sealedBlob(id)).toEqual(sealed);
    expect((await server.store.getAccount(workspaceId, id))!.status).toBe("CREDENTIALS_EXPIRED");

    const fresh = microsoft.addUser(user);
    microsoft.expire(fresh.accessToken); // the connector refreshes once: the token it stores has a known expiry
    const reconnected = await reconnect({ accountId: id, variant: outlook(fresh) });
    if (!reconnected.ok) throw new Error(JSON.stringify(reconnected.error));
    const after = (await server.store.getAccount(workspaceId, id))!;
    expect([after.id, after.status, after.createdAt]).toEqual([id, "CONNECTED", created.createdAt]);
    const { outcome } = reconnected.response;
    expect(outcome.case === "accountReconnected" && [outcome.value.account?.id, AccountStatus[outcome.value.account!.status]]).toEqual([id, "CONNECTED"]);

    const stored = openCredentials(server.sealer, { ...after, secrets: after.secrets! });
    const tokenCalls = microsoft.requestsTo("token").length;
    const read = await getCredentials(id);
    if (!read.ok) throw new Error(JSON.stringify(read.error));
    const oauth = read.response.credentials.value as { accessToken: string; scopes: string[] };
    expect(oauth.accessToken).toBe(stored.kind === "oauth" ? stored.accessToken : "");
    // Granted when the reconnection refreshed the token, stored with it, answered from the store.
    expect(oauth.scopes).toEqual(["https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/User.Read"]);
    expect([tokens.accessToken, fresh.accessToken]).not.toContain(oauth.accessToken);
    // Answered from the store: the reconnection's token is fresh, so no refresh.
    expect(microsoft.requestsTo("token").length).toBe(tokenCalls);
  }, 60_000);

  it("a ReconnectAccount committed while GetCredentials' refresh waits for Microsoft wins: the refresh of the old grant is not stored over the new credentials", async () => {
    const user = { id: randomUUID(), displayName: "Nestor", mail: `nestor.${backend}@contoso.com`, userPrincipalName: `nestor.${backend}@contoso.com` };
    const outlook = (tokens: { accessToken: string; refreshToken: string }) => ({ case: "outlook" as const, value: { ...tokens, id: user.id, username: user.mail } });
    const connected = await connect({ variant: outlook(microsoft.addUser(user)) });
    if (!connected.ok) throw new Error(JSON.stringify(connected.error));
    const id = connected.response.accountId;
    const before = microsoft.requestsTo("token").length;

    // GetCredentials refreshes the due token (its expiry unknown); Microsoft is held before it answers.
    const held = microsoft.hold("token");
    const reading = getCredentials(id);
    await held.reached;
    const fresh = microsoft.addUser(user);
    microsoft.expire(fresh.accessToken); // the reconnection refreshes once too: its token has a known expiry
    const reconnecting = reconnect({ accountId: id, variant: outlook(fresh) });
    // The embedded store reads and writes a refresh apart: the reconnection commits in between.
    // PostgreSQL holds the row for the refresh: the reconnection commits after it.
    const afterReconnect = backend === "sqlite" ? ((await reconnecting).ok, await sealedBlob(id)) : undefined;
    held.release();
    const read = await reading;
    const reconnected = await reconnecting;
    if (!read.ok || !reconnected.ok) throw new Error(JSON.stringify([read, reconnected]));

    const stored = (await server.store.getAccount(workspaceId, id))!;
    const credentials = openCredentials(server.sealer, { ...stored, secrets: stored.secrets! });
    expect(stored.status).toBe("CONNECTED");
    // Two refreshes: the old grant's (GetCredentials) and the new grant's (the reconnection's connector), no third.
    expect(microsoft.requestsTo("token").map((r) => r.form.refresh_token).slice(before)).toContain(fresh.refreshToken);
    expect(microsoft.requestsTo("token").length).toBe(before + 2);
    const answered = (read.response.credentials.value as { accessToken: string }).accessToken;
    if (afterReconnect) {
      // SQLite: the refresh lost its compare-and-set, started again from the new credentials, found them fresh and answered them.
      expect(await sealedBlob(id)).toEqual(afterReconnect);
      expect(answered).toBe(credentials.kind === "oauth" && credentials.accessToken);
    } else {
      // PostgreSQL: the refresh committed first under the row lock; the reconnection's write came after and stays.
      expect(answered).not.toBe(credentials.kind === "oauth" && credentials.accessToken);
    }
  }, 60_000);
});
