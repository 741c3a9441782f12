/**
 * The drivers behind the real server (ConnectAccount, WatchAccount, SolveCheckpoint over gRPC),
 * on both hosts: the in-process host the server embeds by default, and the gateway server on
 * a real port. Plus the default configuration: WhatsApp, Telegram and the seven web variants
 * reach the real driver code (no network here), not feature_not_implemented.
 */
import { Code } from "@connectrpc/connect";
import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { AccountEventKind, CheckpointType } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { loadConfig } from "../../src/config.ts";
import { productionConnectors } from "../../src/connectors.ts";
import { createTelegramDriver } from "../../src/drivers/telegram/driver.ts";
import { webDrivers } from "../../src/drivers/web-drivers.ts";
import { LOOPBACK_NETWORKS, loopbackGuard } from "../support/loopback-guard.ts";
import { createWhatsAppDriver } from "../../src/drivers/whatsapp/driver.ts";
import { checkpointOf, expectError, expectOk, leaks, rpc, stringify, telegram, whatsapp } from "../checkpoints/support/helpers.ts";
import { WEB_REQUESTS } from "../support/drivers/web-requests.ts";
import { watchAccount } from "../checkpoints/support/watch.ts";
import { fakeBaileys } from "../support/drivers/fake-baileys.ts";
import { FakeTelegram, telegramUser } from "../support/drivers/fake-gramjs.ts";
import { createDriverLab } from "../support/drivers/drive.ts";
import { startFakeLinkedin } from "../support/drivers/fake-linkedin.ts";
import { HOSTS, startHost } from "../support/drivers/hosts.ts";
import { capturedLogger } from "../support/logs.ts";
import { startTestServer } from "../support/server.ts";

const PHONE = "33699887766";
const APP = { apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" };

describe.each(HOSTS)("the server with the drivers hosted %s", (kind) => {
  it("WhatsApp: ConnectAccount answers the QR code, the watch sees it rotate, the scan creates the account; the session leaks nowhere", async () => {
    const fake = fakeBaileys();
    const host = await startHost(kind, [createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory })]);
    const server = await startTestServer({ connectors: [host.connector], intentPollMs: 100 });
    try {
      const api = rpc(server, "grpc");
      const connecting = api.connect(whatsapp());
      const first = await fake.next(0);
      const qr1 = first.showQr();
      const r = expectOk(await connecting);
      expect(r.object).toBe("Checkpoint");
      expect(checkpointOf(r)).toMatchObject({ type: CheckpointType.QR_CODE, qrCode: qr1 });
      const watch = watchAccount(server, "grpc", server.apiKey, r.accountId);
      await watch.event(0);
      const qr2 = first.showQr();
      expect((await watch.waitFor(AccountEventKind.CHECKPOINT_REFRESHED)).checkpoint?.qrCode).toBe(qr2);
      first.pairSuccess(PHONE, "Anna");
      const second = await fake.next(1);
      second.open();
      await watch.waitFor(AccountEventKind.CONNECTED, 10_000);
      const account = expectOk(await api.get(r.accountId));
      expect(stringify(account)).toContain(PHONE);
      // The session's private keys: in no response, event, log line or stored intent. (The ADV
      // secret is not among them: WhatsApp's QR code itself carries it to the phone.)
      const creds = second.config.auth!.creds;
      const secrets = [creds.noiseKey.private, creds.signedIdentityKey.private, creds.pairingEphemeralKeyPair.private, creds.signedPreKey.keyPair.private].map((key) => Buffer.from(key).toString("base64"));
      const alpha = (await server.store.findWorkspaceByName("alpha"))!;
      const intent = await server.store.getIntentByAccountId(alpha.id, r.accountId);
      expect(leaks(secrets, { responses: [r, account], events: watch.events, serverLogs: server.logs.join("\n"), hostLogs: host.logs.join("\n"), intent })).toEqual([]);
      expect(second.ended).toBe(true);
    } finally {
      await server.close();
      await host.close();
    }
  });

  it("Telegram: TWO_FACTOR through SolveCheckpoint, a wrong password then the right one", async () => {
    const fake = new FakeTelegram();
    const host = await startHost(kind, [createTelegramDriver({ app: APP, clientFactory: fake.factory })]);
    const server = await startTestServer({ connectors: [host.connector], intentPollMs: 100 });
    const password = "S3CRET-tg-server-password";
    try {
      const api = rpc(server, "grpc");
      const r = expectOk(await api.connect(telegram()));
      expect(checkpointOf(r)?.qrCode).toMatch(/^tg:\/\/login\?token=/);
      const watch = watchAccount(server, "grpc", server.apiKey, r.accountId);
      await watch.event(0);
      (await fake.client(0)).scan({ user: telegramUser({ id: 4242 }), password });
      const twoFactor = await watch.waitFor(AccountEventKind.CHECKPOINT, 10_000, 1);
      expect(twoFactor.checkpoint?.type).toBe(CheckpointType.TWO_FACTOR);
      expectError(await api.solve(r.accountId, "wrong-password"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
      expect(expectOk(await api.solve(r.accountId, password)).object).toBe("AccountCreated");
      expect(leaks([password, fake.clients[0]!.session.save()], { events: watch.events, serverLogs: server.logs.join("\n"), hostLogs: host.logs.join("\n") })).toEqual([]);
    } finally {
      await server.close();
      await host.close();
    }
  });
});

describe("drain", () => {
  it("the server's drain closes the in-process host: every pending provider socket is closed", async () => {
    const fake = fakeBaileys();
    const host = await startHost("in-process", [createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory })]);
    const server = await startTestServer({ connectors: [host.connector] });
    const connecting = rpc(server, "grpc").connect(whatsapp());
    (await fake.next(0)).showQr();
    expectOk(await connecting);
    expect(host.host.pendingSessions).toBe(1);
    await server.close();
    expect(fake.sockets[0]!.ended).toBe(true);
    expect(host.host.pendingSessions).toBe(0);
  });
});

describe("the default configuration (what npm start runs)", () => {
  it("WhatsApp and Telegram run the real drivers: no network here is provider_unreachable; Telegram without its variables names them", async () => {
    const { log } = capturedLogger();
    const server = await startTestServer({ connectors: await productionConnectors(loadConfig({}), log) });
    try {
      const api = rpc(server, "grpc");
      // Baileys itself, against web.whatsapp.com, which cannot be resolved or reached from here.
      expectError(await api.connect(whatsapp(), { timeoutMs: 30_000 }), Code.Unavailable, "errors/provider_unreachable");
      const e = expectError(await api.connect(telegram()), Code.Unimplemented, "errors/feature_not_implemented");
      expect(e.message).toMatch(/TELEGRAM_API_ID and TELEGRAM_API_HASH/);
    } finally {
      await server.close();
    }
  });
});

describe("the web drivers behind the server (the default host)", () => {
  it("each of the seven web variants reaches its real driver: an unreachable provider is provider_unreachable, never feature_not_implemented", async () => {
    const { log } = capturedLogger();
    // Every web origin on a port nothing listens on (one just freed: fetch refuses the "bad ports" such as 1): the drivers' own HTTP client finds it closed.
    const closed = `https://127.0.0.1:${await freedPort()}`;
    const env = { LINKEDIN_BASE_URL: closed, INSTAGRAM_BASE_URL: closed, FACEBOOK_BASE_URL: closed, FACEBOOK_GRAPH_BASE_URL: closed, TWITTER_API_BASE_URL: closed, TWITTER_WEB_BASE_URL: closed, TWITTER_FLOW_STEP_DELAY_MS: "0", PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS };
    const server = await startTestServer({ connectors: await productionConnectors(loadConfig(env), log) });
    try {
      const api = rpc(server, "grpc");
      const answers: Record<string, string | undefined> = {};
      for (const [variant, request] of WEB_REQUESTS) {
        const r = await api.connect(request, { timeoutMs: 30_000 });
        answers[variant] = r.ok ? "ok" : r.error.errorInfo?.metadata.type;
      }
      expect(answers).toEqual(Object.fromEntries(WEB_REQUESTS.map(([variant]) => [variant, "errors/provider_unreachable"])));
    } finally {
      await server.close();
    }
  });

  it.each(HOSTS)("LinkedIn cookie through the %s host: ConnectAccount creates the account against the fake LinkedIn; the cookie leaks nowhere", async (kind) => {
    const lab = await createDriverLab();
    const fake = await startFakeLinkedin(lab.pki.server);
    const host = await startHost(kind, webDrivers(lab.env({ LINKEDIN_BASE_URL: fake.url }).config, loopbackGuard));
    const server = await startTestServer({ connectors: [host.connector] });
    try {
      fake.addMember({ email: "ada@example.com", password: "pw", memberId: 4242, firstName: "Ada", lastName: "Lovelace", publicIdentifier: "ada-lovelace" });
      const liAt = fake.cookieFor("ada@example.com");
      const api = rpc(server, "grpc");
      const r = expectOk(await api.connect({ variant: { case: "linkedinCookie", value: { accessToken: liAt } } }));
      expect(r.object).toBe("AccountCreated");
      const account = expectOk(await api.get(r.accountId));
      expect(stringify(account)).toContain("4242");
      expect(leaks([liAt], { responses: [r, account], serverLogs: server.logs.join("\n"), hostLogs: host.logs.join("\n") })).toEqual([]);
      expect(fake.requests.some((q) => q.path === "/voyager/api/me")).toBe(true);
    } finally {
      await server.close();
      await host.close();
      await fake.close();
      await lab.close();
    }
  });
});

function freedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
