/**
 * Issue 14's persistence, end to end: a WhatsApp login through the real server seals its
 * provider session with the account; a server restarted on the same store (same keyring)
 * reads it back and the driver reopens the linked device from that material (no QR); after
 * `secrets rotate` to a new key, the session still opens, under the new key only. The session
 * appears in no response, event, log line or intent row.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AccountEventKind } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { rotateSecrets } from "../../src/crypto/rotate.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { resumeSession } from "../../src/drivers/resume.ts";
import { createWhatsAppDriver } from "../../src/drivers/whatsapp/driver.ts";
import { expectOk, leaks, rpc, whatsapp } from "../checkpoints/support/helpers.ts";
import { watchAccount } from "../checkpoints/support/watch.ts";
import { fakeBaileys } from "../support/drivers/fake-baileys.ts";
import { startHost } from "../support/drivers/hosts.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { capturedLogger } from "../support/logs.ts";
import { startTestServer } from "../support/server.ts";

const PHONE = "33611223344";

describe("a driver session sealed with its account survives a restart and a key rotation", () => {
  it("WhatsApp: restart on the same store reopens the device from the sealed session; after rotation it opens under the new key", async () => {
    const oldKey = `old:${randomBytes(32).toString("base64")}`;
    const sealer = createSealer(parseKeyring(oldKey));
    const fake = fakeBaileys();
    const whatsappOptions = { guard: loopbackGuard, socketFactory: fake.factory };
    const host = await startHost("in-process", [createWhatsAppDriver(whatsappOptions)]);
    const first = await startTestServer({ connectors: [host.connector], intentPollMs: 100, sealer });
    const dataDir = first.dataDir;
    const api = rpc(first, "grpc");
    const connecting = api.connect(whatsapp());
    const pairing = await fake.next(0);
    pairing.showQr();
    const r = expectOk(await connecting);
    const watch = watchAccount(first, "grpc", first.apiKey, r.accountId);
    await watch.event(0);
    pairing.pairSuccess(PHONE, "Anna");
    const linked = await fake.next(1);
    linked.open();
    await watch.waitFor(AccountEventKind.CONNECTED, 10_000);
    const account = expectOk(await api.get(r.accountId));
    const creds = linked.config.auth!.creds;
    const secrets = [creds.noiseKey.private, creds.signedIdentityKey.private, creds.signedPreKey.keyPair.private].map((key) => Buffer.from(key).toString("base64"));
    const alpha = (await first.store.findWorkspaceByName("alpha"))!;
    const intent = await first.store.getIntentByAccountId(alpha.id, r.accountId);
    const firstLogs = first.logs.join("\n");
    // The restart: this server and its host go; the store (and the data directory) stay.
    await first.server.drain(1_000);
    await first.store.close();
    await host.close();

    const second = await startTestServer({ dataDir, sealer, seed: false, keys: { apiKey: first.apiKey, otherApiKey: first.otherApiKey } });
    const { log, lines } = capturedLogger();
    try {
      const resuming = resumeSession(second, { workspaceId: alpha.id, accountId: r.accountId }, { whatsapp: whatsappOptions }, { log, signal: AbortSignal.timeout(10_000) });
      const reopened = await fake.next(2);
      // The device logs in with the credentials it paired with: no QR, same keys.
      expect(reopened.config.auth!.creds.me?.id).toBe(`${PHONE}:7@s.whatsapp.net`);
      expect(Buffer.from(reopened.config.auth!.creds.noiseKey.private)).toEqual(Buffer.from(creds.noiseKey.private));
      reopened.open();
      const session = await resuming;
      expect(session.identity.providerUserId).toBe(PHONE);
      await session.close();

      // secrets rotate: a new active key; the old one stays readable only as long as the run needs it.
      const newKey = `new:${randomBytes(32).toString("base64")}`;
      const rotating = createSealer(parseKeyring(`${oldKey},${newKey}`, "new"));
      const rotated = await rotateSecrets({ store: second.store, sealer: rotating, activeKeyId: "new" });
      expect(rotated.failed).toBe(0);
      expect(rotated.resealed).toBeGreaterThanOrEqual(1);
      const stored = await second.store.getAccount(alpha.id, r.accountId);
      expect(stored?.secrets?.keyId).toBe("new");
      // A keyring without the old key still opens the session: it was resealed, not left behind.
      const newOnly = createSealer(parseKeyring(newKey));
      const again = resumeSession({ store: second.store, sealer: newOnly }, { workspaceId: alpha.id, accountId: r.accountId }, { whatsapp: whatsappOptions }, { log, signal: AbortSignal.timeout(10_000) });
      const third = await fake.next(3);
      expect(Buffer.from(third.config.auth!.creds.noiseKey.private)).toEqual(Buffer.from(creds.noiseKey.private));
      third.open();
      await (await again).close();

      expect(leaks(secrets, { responses: [r, account], events: watch.events, serverLogs: firstLogs, secondLogs: second.logs.join("\n"), resumeLogs: lines.join("\n"), intent })).toEqual([]);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
