import { create, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createWorkspace } from "../../src/auth/workspaces.ts";
import { loadConfig } from "../../src/config.ts";
import { sealingAad } from "../../src/crypto/sealer.ts";
import { HealthChecker } from "../../src/domain/events/health-checker.ts";
import { WebhookDeliverer } from "../../src/domain/events/webhook-deliverer.ts";
import { WebhookEndpoints } from "../../src/domain/events/webhook-endpoints.ts";
import { LOOPBACK_NETWORKS, loopbackGuard } from "../support/loopback-guard.ts";
import { createConnectorRegistry } from "../../src/domain/connectors/registry.ts";
import { newId } from "../../src/ids.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { testSealer } from "../support/server.ts";
import { refresherFor, startReceiver, switchConnector, type Receiver, type SwitchConnector, loopbackUrlRule } from "./support.ts";

const ACCOUNTS = 1_000;

/**
 * Two replicas on one PostgreSQL database (two stores, two connection pools, no leader):
 * 1,000 accounts due for a check are each checked exactly once in the round (counted at the
 * connectors), and the 1,000 status changes that follow are each delivered exactly once
 * (counted at the receiver).
 */
describe("two replicas on PostgreSQL", () => {
  const schema = uniqueSchema("events");
  const sealer = testSealer();
  const log = pino({ level: "silent" });
  const settings = loadConfig({ ACCOUNT_CHECK_CONCURRENCY: "8", WEBHOOK_CONCURRENCY: "8", PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS });
  let stores: Store[];
  let receiver: Receiver;
  let connectors: SwitchConnector[];
  let usernames: string[];

  beforeAll(async () => {
    stores = [await openPostgresStore({ connectionString: PG_URL, schema }), await openPostgresStore({ connectionString: PG_URL, schema })];
    const workspace = await createWorkspace(stores[0]!, "alpha");
    receiver = await startReceiver();
    const endpoints = new WebhookEndpoints({ store: stores[0]!, sealer, checkUrl: loopbackUrlRule });
    receiver.secret = (await endpoints.create(workspace.id, receiver.url, ["account.status_changed"])).signingSecret;

    // 1,000 linked accounts, all due (inserted in bulk: the round is what this test is about).
    usernames = Array.from({ length: ACCOUNTS }, (_, i) => `bulk-${i}`);
    const due = new Date(Date.now() - 60_000);
    await withPg(async (client) => {
      await client.query(`SET search_path TO ${schema}`);
      for (let i = 0; i < ACCOUNTS; i += 250) {
        const rows = usernames.slice(i, i + 250).map((username) => {
          const id = newId("acc_");
          const request = create(ConnectAccountRequestSchema, { variant: { case: "linkedinBasic", value: { username, password: "pw-secret-1" } } });
          const secret = sealer.seal(toBinary(ConnectAccountRequestSchema, request), sealingAad(workspace.id, id));
          return [id, workspace.id, "LINKEDIN", "LINKEDIN_BASIC", username, "CONNECTED", "{}", secret.keyId, secret.envelope, due, due, due, due];
        });
        const values = rows.map((_, r) => `(${Array.from({ length: 13 }, (_, c) => `$${r * 13 + c + 1}`).join(", ")})`).join(", ");
        await client.query(
          `INSERT INTO accounts (id, workspace_id, provider, auth_method, provider_user_id, status, options, secrets_key_id, secrets_envelope, created_at, updated_at, status_changed_at, next_check_at) VALUES ${values}`,
          rows.flat(),
        );
      }
    });
    // The provider now refuses every one of them.
    connectors = [switchConnector(), switchConnector()];
    for (const connector of connectors) for (const username of usernames) connector.failing.set(username, "invalid_credentials");
  }, 120_000);
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await receiver.close();
    await dropSchema(schema);
  });

  it("checks each account exactly once per round and delivers each of the 1,000 events exactly once", async () => {
    const checkers = stores.map((store, i) => new HealthChecker({ store, sealer, connectors: createConnectorRegistry([connectors[i]!]), refresher: refresherFor(store, sealer), settings: settings.healthChecks, log }));
    const handled = await Promise.all(checkers.map((c) => c.runRound()));
    expect(handled[0]! + handled[1]!).toBe(ACCOUNTS);
    for (const username of usernames) {
      expect((connectors[0]!.calls.get(username) ?? 0) + (connectors[1]!.calls.get(username) ?? 0)).toBe(1);
    }
    // Both took part (the split is whatever the race gave).
    console.log(`health checks per replica: ${handled.join(" / ")}`);
    // A second round at once finds nothing due: the next check is an interval away.
    expect(await Promise.all(checkers.map((c) => c.runRound()))).toEqual([0, 0]);

    const deliverers = stores.map((store) => new WebhookDeliverer({ store, sealer, checkUrl: loopbackUrlRule, guard: loopbackGuard, settings: settings.webhooks, log }));
    const attempted = await Promise.all(deliverers.map((d) => d.runRound()));
    console.log(`deliveries per replica: ${attempted.join(" / ")}`);
    expect(attempted[0]! + attempted[1]!).toBe(ACCOUNTS);
    const ids = receiver.received.map((r) => r.eventId);
    expect(ids).toHaveLength(ACCOUNTS);
    expect(new Set(ids).size).toBe(ACCOUNTS);
    expect(receiver.received.every((r) => r.signed && (r.body.data as { to: string }).to === "CREDENTIALS_EXPIRED")).toBe(true);
    expect(new Set(receiver.received.map((r) => r.body.account_id)).size).toBe(ACCOUNTS);
    expect(await Promise.all(deliverers.map((d) => d.runRound()))).toEqual([0, 0]);
  }, 300_000);
});
