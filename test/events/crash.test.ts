import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountService, ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../src/crypto/sealer.ts";
import { WebhookEndpoints } from "../../src/domain/events/webhook-endpoints.ts";
import { LOOPBACK_NETWORKS } from "../support/loopback-guard.ts";
import { newId } from "../../src/ids.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { replicaKeyring, seedWorkspaces, spawnReplica, type ReplicaOptions } from "../accounts/replicas.ts";
import { dropSchema, PG_URL, uniqueSchema } from "../support/pg.ts";
import { eventually, loopbackUrlRule, startReceiver } from "./support.ts";

/**
 * The outbox across a crash: the server changes an account's status and is SIGKILLed before
 * any delivery (its deliverer is off); after a restart the change and the connect before it
 * reach the webhook receiver, each exactly once.
 */
describe.each(["sqlite", "postgres"] as const)("SIGKILL between a status change and its delivery (%s)", (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), "pp-crash-"));
  const schema = uniqueSchema("crash");
  const storeOption: ReplicaOptions["store"] = backend === "postgres" ? { kind: "postgres", url: PG_URL, schema } : { kind: "sqlite", dataDir };
  const openStore = (): Promise<Store> => (backend === "postgres" ? openPostgresStore({ connectionString: PG_URL, schema }) : openSqliteStore({ path: join(dataDir, "accounts.db") }));
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (backend === "postgres") await dropSchema(schema);
  });

  it("delivers after the restart, nothing twice", async () => {
    const sealingKeys = replicaKeyring();
    const sealer = createSealer(parseKeyring(sealingKeys));
    const receiver = await startReceiver();
    const store = await openStore();
    const { workspaceId, apiKey } = await seedWorkspaces(store);
    receiver.secret = (await new WebhookEndpoints({ store, sealer, checkUrl: loopbackUrlRule }).create(workspaceId, receiver.url, [])).signingSecret;
    // A linked account (written as ConnectAccount writes it: intent, account, account.connected).
    const now = new Date();
    const intent = {
      id: newId("int_"), workspaceId, provider: "LINKEDIN", identityKey: "user:crash", accountId: newId("acc_"), status: "OPEN" as const,
      createdAt: now, updatedAt: now, expiresAt: new Date(now.getTime() + 60_000), closedAt: null, errorKind: null, state: null, secrets: null, revision: 0,
    };
    await store.openIntent(intent, now);
    const request = create(ConnectAccountRequestSchema, { variant: { case: "linkedinBasic", value: { username: "crash-user", password: "pw-secret-1" } } });
    await store.insertAccount(
      {
        id: intent.accountId, workspaceId, provider: "LINKEDIN", authMethod: "LINKEDIN_BASIC", identity: { providerUserId: "crash-user" }, status: "CONNECTED", options: {},
        secrets: sealer.seal(toBinary(ConnectAccountRequestSchema, request), sealingAad(workspaceId, intent.accountId)), accessTokenExpiresAt: null, createdAt: now, updatedAt: now,
      },
      intent.id,
      now,
    );
    await store.close();

    // Replica 1 checks (the provider now refuses the credentials) but delivers nothing.
    const common = { ACCOUNT_CHECK_INTERVAL_MS: "1", ACCOUNT_CHECK_JITTER_PERCENT: "0", PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS };
    const first = await spawnReplica({ store: storeOption, sealingKeys, step: { fail: "invalid_credentials" }, env: { ...common, ACCOUNT_CHECK_POLL_MS: "50", WEBHOOK_POLL_MS: "0" } });
    const accounts = createClient(AccountService, createConnectTransport({ baseUrl: first.httpUrl, httpVersion: "1.1" }));
    await eventually(async () => (await accounts.getAccount({ accountId: intent.accountId }, { headers: { "x-api-key": apiKey } })).account?.status === AccountStatus.CREDENTIALS_EXPIRED, 30_000, "CREDENTIALS_EXPIRED");
    await first.kill("SIGKILL");
    expect(receiver.received).toHaveLength(0);

    // Replica 2, after the crash, finds both events in the outbox.
    const second = await spawnReplica({ store: storeOption, sealingKeys, step: {}, env: { ...common, ACCOUNT_CHECK_POLL_MS: "0", WEBHOOK_POLL_MS: "50" } });
    try {
      await eventually(() => receiver.received.length >= 2, 30_000, "two deliveries");
      // Twenty delivery rounds later, still two: each event once.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(receiver.received.map((r) => r.body.type).sort()).toEqual(["account.connected", "account.status_changed"]);
      expect(new Set(receiver.received.map((r) => r.eventId)).size).toBe(2);
      expect(receiver.received.every((r) => r.signed)).toBe(true);
    } finally {
      await second.kill("SIGTERM");
      await receiver.close();
    }
  }, 120_000);
});
