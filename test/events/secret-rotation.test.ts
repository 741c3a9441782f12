import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { rotateSecrets } from "../../src/crypto/rotate.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { WebhookDeliverer } from "../../src/domain/events/webhook-deliverer.ts";
import { WebhookEndpoints } from "../../src/domain/events/webhook-endpoints.ts";
import { LOOPBACK_NETWORKS, loopbackGuard } from "../support/loopback-guard.ts";
import { loadConfig } from "../../src/config.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { account, intent, workspace } from "../store/fixtures.ts";
import { startReceiver, loopbackUrlRule } from "./support.ts";

/** Webhook signing secrets are sealed like credentials, so a key rotation re-seals them too; deliveries keep their signature. */
describe("webhook secrets under key rotation", () => {
  const dir = mkdtempSync(join(tmpdir(), "pp-whrot-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("re-seals the signing secret under the new key, and deliveries still verify with the secret shown at creation", async () => {
    const k1 = `k1:${randomBytes(32).toString("base64")}`;
    const k2 = `k2:${randomBytes(32).toString("base64")}`;
    const store = await openSqliteStore({ path: join(dir, "accounts.db") });
    const receiver = await startReceiver();
    try {
      const ws = workspace();
      await store.createWorkspace(ws);
      const old = createSealer(parseKeyring(k1));
      receiver.secret = (await new WebhookEndpoints({ store, sealer: old, checkUrl: loopbackUrlRule }).create(ws.id, receiver.url, [])).signingSecret;

      const sealer = createSealer(parseKeyring(`${k1},${k2}`, "k2"));
      const result = await rotateSecrets({ store, sealer, activeKeyId: "k2" });
      expect(result).toMatchObject({ resealed: 1, failed: 0 });
      const [endpoint] = await store.listWebhookEndpoints(ws.id);
      expect(endpoint!.secret.keyId).toBe("k2");

      // Only k2 from now on: the old key is gone.
      const onlyNew = createSealer(parseKeyring(k2));
      const now = new Date();
      const open = intent(ws.id, now);
      await store.openIntent(open, now);
      await store.insertAccount(account(open, now), open.id, now);
      const settings = loadConfig({ PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS }).webhooks;
      const deliverer = new WebhookDeliverer({ store, sealer: onlyNew, checkUrl: loopbackUrlRule, guard: loopbackGuard, settings, log: pino({ level: "silent" }) });
      expect(await deliverer.runRound()).toBe(1);
      expect(receiver.received.map((r) => r.signed)).toEqual([true]);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});
