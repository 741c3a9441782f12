import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialService } from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { openCredentials } from "../../src/domain/credentials/account-credentials.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { replicaKeyring, seedWorkspaces, spawnReplica, type Replica } from "../accounts/replicas.ts";
import { callRpc } from "../support/clients.ts";
import { LOOPBACK_NETWORKS } from "../support/loopback-guard.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { credentialsKey, outlookRequest, seedAccount } from "./support.ts";

const CALLS = 50;

/**
 * The headline of issue 16's refresh: an Outlook account whose access token has expired, 50
 * GetCredentials at once split across two server processes on one PostgreSQL. Microsoft's
 * token endpoint (a local fake) must see exactly one refresh, every answer must carry the
 * new token, and the rotated refresh token must be stored sealed.
 */
describe("one refresh across replicas (PostgreSQL)", () => {
  const schema = uniqueSchema("creds");
  const keyring = replicaKeyring();
  const sealer = createSealer(parseKeyring(keyring));
  let store: Store;
  let microsoft: FakeMicrosoft;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    microsoft = await startFakeMicrosoft();
    store = await openPostgresStore({ connectionString: PG_URL, schema, connectTimeoutMs: 30_000 });
    await seedWorkspaces(store);
    const env = {
      CREDENTIALS_SERVICE: "grpc",
      // Bounds, not expectations: generous, so a loaded machine makes waits longer, never failures.
      CREDENTIALS_LOCK_TIMEOUT_MS: "60000",
      PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS,
      ACCOUNT_CHECK_POLL_MS: "0",
      ...microsoft.env,
    };
    const options = { store: { kind: "postgres" as const, url: PG_URL, schema }, sealingKeys: keyring, env };
    replicas.push(...(await Promise.all([spawnReplica(options), spawnReplica(options)])));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.kill()));
    await store?.close();
    await microsoft?.close();
    await dropSchema(schema);
  });

  it("50 concurrent reads on two replicas: one refresh at the provider, the new token in every answer, the rotated refresh token stored sealed", async () => {
    const workspaceId = (await store.findWorkspaceByName("alpha"))!.id;
    const key = await credentialsKey(store);
    const user = { id: "graph-0001", displayName: "Ada", mail: "ada@contoso.com", userPrincipalName: "ada@contoso.com" };
    const old = microsoft.addUser(user);
    microsoft.expire(old.accessToken);
    const account = await seedAccount(store, sealer, workspaceId, outlookRequest(old, user), { provider: "OUTLOOK", providerUserId: user.id, accessTokenExpiresAt: new Date(Date.now() - 60_000) });

    // Microsoft's answer to the first refresh, held a moment so both replicas' calls pile up
    // behind it (a second refresh, if any, would get the fake's normal answer and be counted).
    const fresh = { accessToken: `eyJ0eXAiOiJKV1Qi.fresh.${randomBytes(16).toString("base64url")}`, refreshToken: `M.C5fake_BAY.rotated.${randomBytes(16).toString("base64url")}` };
    microsoft.script("token", {
      status: 200,
      delayMs: 300,
      json: { token_type: "Bearer", scope: "https://graph.microsoft.com/Mail.ReadWrite", expires_in: 3599, access_token: fresh.accessToken, refresh_token: fresh.refreshToken },
    });

    const answers = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        callRpc({ grpcAddress: replicas[i % 2]!.grpcAddress, httpUrl: replicas[i % 2]!.httpUrl }, "grpc", CredentialService.method.getCredentials, { accountId: account.id, includeRefreshToken: true }, { apiKey: key, timeoutMs: 120_000 }),
      ),
    );

    const failures = answers.flatMap((answer) => (answer.ok ? [] : [answer.error]));
    expect(failures).toEqual([]);
    expect(microsoft.requestsTo("token")).toHaveLength(1);
    const tokens = answers.map((answer) => (answer.ok && answer.response.credentials.case === "oauth" ? answer.response.credentials.value : undefined));
    expect(new Set(tokens.map((t) => t?.accessToken))).toEqual(new Set([fresh.accessToken]));
    expect(new Set(tokens.map((t) => t?.refreshToken))).toEqual(new Set([fresh.refreshToken]));

    // The row as PostgreSQL holds it: neither new token in clear, and opening it gives both.
    const row = await withPg(async (client) => (await client.query(`SELECT secrets_envelope, access_token_expires_at FROM ${schema}.accounts WHERE id = $1`, [account.id])).rows[0] as { secrets_envelope: Buffer; access_token_expires_at: Date });
    for (const token of [fresh.accessToken, fresh.refreshToken]) expect(row.secrets_envelope.includes(Buffer.from(token))).toBe(false);
    expect(row.access_token_expires_at.getTime()).toBeGreaterThan(Date.now());
    const stored = (await store.getAccount(workspaceId, account.id))!;
    expect(openCredentials(sealer, { ...stored, secrets: stored.secrets! })).toMatchObject({ kind: "oauth", accessToken: fresh.accessToken, refreshToken: fresh.refreshToken });
  }, 180_000);
});
