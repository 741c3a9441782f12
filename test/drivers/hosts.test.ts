/**
 * The WhatsApp and Telegram drivers on both hosts: in process (what the server embeds by
 * default) and behind the gateway server on a real port, reached through the gateway
 * connector the server uses for GATEWAY_URL_<PROVIDER>. Providers are faked at the libraries'
 * seams (Baileys' socket factory, GramJS's client); proxies are real local servers.
 */
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { createTelegramDriver } from "../../src/drivers/telegram/driver.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { createWhatsAppDriver } from "../../src/drivers/whatsapp/driver.ts";
import { fakeBaileys } from "../support/drivers/fake-baileys.ts";
import { FakeTelegram, telegramUser } from "../support/drivers/fake-gramjs.ts";
import { HOSTS, call, follow, startHost, startInput, type HostKind } from "../support/drivers/hosts.ts";

const PHONE = "33612345678";
const TG_PASSWORD = "S3CRET-tg-password-host";
const APP = { apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" };

async function whatsappHost(kind: HostKind, options: { maxPendingSessions?: number; sessionTtlMs?: number } = {}) {
  const fake = fakeBaileys();
  const host = await startHost(kind, [createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory })], options);
  return { fake, host };
}

async function telegramHost(kind: HostKind) {
  const fake = new FakeTelegram();
  const host = await startHost(kind, [createTelegramDriver({ app: APP, clientFactory: fake.factory })]);
  return { fake, host };
}

describe.each(HOSTS)("drivers hosted %s", (kind) => {
  it("WhatsApp: QR, refreshed QR, restart required, connected with the session (events and get), session never logged", async () => {
    const { fake, host } = await whatsappHost(kind);
    try {
      const input = startInput({ case: "whatsapp", value: {} });
      const starting = host.connector.start(input, call());
      const first = await fake.next(0);
      const qr1 = first.showQr();
      const started = await starting;
      expect(started).toMatchObject({ status: "CHECKPOINT", checkpoint: { type: "QR_CODE", qrCode: qr1 } });
      if (kind === "gateway") expect(started.replica).toBe(host.gateway!.address);
      const events = follow(host.connector, input.intentId);
      await events.until((e) => e.kind === "SNAPSHOT");
      const qr2 = first.showQr();
      expect(await events.until((e) => e.kind === "CHECKPOINT_REFRESHED")).toMatchObject({ state: { checkpoint: { qrCode: qr2 } } });
      first.pairSuccess(PHONE, "Anna");
      (await fake.next(1)).open();
      const connected = await events.until((e) => e.state.status === "CONNECTED");
      expect(connected.state.identity).toEqual({ providerUserId: PHONE, handle: `+${PHONE}`, displayName: "Anna" });
      expect(connected.state.session?.format).toBe("baileys-auth/v1");
      const got = await host.connector.get(input.intentId, call());
      expect(got.session).toEqual(connected.state.session);
      expect(fake.sockets[1]!.ended).toBe(true);
      expect(host.host.pendingSessions).toBe(0);
      const noiseKey = JSON.parse(connected.state.session!.data).creds.noiseKey.private.data as string;
      expect(host.logs.join("\n")).not.toContain(noiseKey);
      expect(host.logs.join("\n")).toContain("provider login ended");
    } finally {
      await host.close();
    }
  });

  it("WhatsApp: pairing code, sent again on resend, then connected", async () => {
    const { fake, host } = await whatsappHost(kind);
    try {
      const input = startInput({ case: "whatsapp", value: { pairingPhoneNumber: `+${PHONE}` } });
      const starting = host.connector.start(input, call());
      (await fake.next(0)).showQr();
      const started = await starting;
      expect(started.checkpoint).toMatchObject({ type: "PAIRING_CODE" });
      const resent = await host.connector.resend(input.intentId, call());
      expect(resent.checkpoint!.pairingCode).not.toBe(started.checkpoint!.pairingCode);
      await expect(host.connector.solve(input.intentId, "ABCD1234", call())).rejects.toMatchObject({ kind: "no_pending_checkpoint" });
      const events = follow(host.connector, input.intentId);
      fake.sockets[0]!.pairSuccess(PHONE, "Anna");
      (await fake.next(1)).open();
      expect((await events.until((e) => e.state.status === "CONNECTED")).state.identity?.providerUserId).toBe(PHONE);
    } finally {
      await host.close();
    }
  });

  it.each([
    [401, "FAILED", "invalid_credentials"],
    [403, "FAILED", "account_restricted"],
  ] as const)("WhatsApp: connection failure %i is %s %s", async (reason, status, errorKind) => {
    const { fake, host } = await whatsappHost(kind);
    try {
      const input = startInput({ case: "whatsapp", value: {} });
      const starting = host.connector.start(input, call());
      const socket = await fake.next(0);
      socket.showQr();
      await starting;
      const events = follow(host.connector, input.intentId);
      socket.failure(reason);
      expect((await events.until((e) => e.state.status === status)).state.errorKind).toBe(errorKind);
    } finally {
      await host.close();
    }
  });

  it("WhatsApp: QR codes exhausted is EXPIRED intent_expired", async () => {
    const { fake, host } = await whatsappHost(kind);
    try {
      const input = startInput({ case: "whatsapp", value: {} });
      const starting = host.connector.start(input, call());
      const socket = await fake.next(0);
      socket.showQr();
      await starting;
      socket.qrRefsEnded();
      const events = follow(host.connector, input.intentId);
      expect((await events.until((e) => e.state.status === "EXPIRED")).state.errorKind).toBe("intent_expired");
    } finally {
      await host.close();
    }
  });

  it("cancel closes the socket; a login past the host's lifetime expires and closes it too", async () => {
    const { fake, host } = await whatsappHost(kind, { sessionTtlMs: 1_000 });
    try {
      const input = startInput({ case: "whatsapp", value: {} });
      const starting = host.connector.start(input, call());
      (await fake.next(0)).showQr();
      await starting;
      expect(await host.connector.cancel(input.intentId, call())).toMatchObject({ status: "CANCELED" });
      expect(fake.sockets[0]!.ended).toBe(true);

      const second = startInput({ case: "whatsapp", value: {} });
      void host.connector.start(second, call()).catch(() => {});
      await fake.next(1);
      const events = follow(host.connector, second.intentId);
      expect((await events.until((e) => e.state.status === "EXPIRED")).state.errorKind).toBe("intent_expired");
      expect(fake.sockets[1]!.ended).toBe(true);
      expect(host.host.pendingSessions).toBe(0);
    } finally {
      await host.close();
    }
  });

  it("closing the host (drain, exit) closes every pending socket", async () => {
    const { fake, host } = await whatsappHost(kind);
    const input = startInput({ case: "whatsapp", value: {} });
    const starting = host.connector.start(input, call());
    (await fake.next(0)).showQr();
    await starting;
    await host.close();
    expect(fake.sockets[0]!.ended).toBe(true);
    expect(host.host.pendingSessions).toBe(0);
  });

  it("the per-process cap answers service_unavailable with a retry delay; an unknown intent is no_client_session", async () => {
    const { fake, host } = await whatsappHost(kind, { maxPendingSessions: 1 });
    try {
      const starting = host.connector.start(startInput({ case: "whatsapp", value: {} }), call());
      (await fake.next(0)).showQr();
      await starting;
      await expect(host.connector.start(startInput({ case: "whatsapp", value: {} }), call())).rejects.toMatchObject({ kind: "service_unavailable", retryAfterMs: 5_000 });
      expect(fake.sockets).toHaveLength(1);
      await expect(host.connector.get("int_unknown", call())).rejects.toMatchObject({ kind: "no_client_session" });
      await expect(host.connector.solve("int_unknown", "1", call())).rejects.toMatchObject({ kind: "no_client_session" });
    } finally {
      await host.close();
    }
  });

  describe("through the account's proxy (real Baileys socket)", () => {
    let proxy: http.Server;
    let refusedPort: number;
    beforeAll(async () => {
      proxy = http.createServer().on("connect", (_req, socket: net.Socket) => socket.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      refusedPort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
    });
    afterAll(() => proxy.close());

    it.each([
      ["refused", () => refusedPort, "proxy_error"],
      ["bad credentials", () => (proxy.address() as AddressInfo).port, "proxy_auth_error"],
    ] as const)("proxy %s: FAILED %s, the proxy password nowhere", async (_name, port, errorKind) => {
      const host = await startHost(kind, [createWhatsAppDriver({ guard: loopbackGuard, connectTimeoutMs: 5_000 })]);
      try {
        const password = "S3CRET-proxy-pass-host";
        const input = startInput({ case: "whatsapp", value: { proxy: { protocol: ProxyProtocol.HTTP, host: "127.0.0.1", port: port(), username: "wa", password } } });
        const state = await host.connector.start(input, call());
        expect(state).toMatchObject({ status: "FAILED", errorKind });
        expect(host.logs.join("\n")).not.toContain(password);
      } finally {
        await host.close();
      }
    });
  });

  it("Telegram: 2FA answered by the variant's password, connected with the StringSession", async () => {
    const { fake, host } = await telegramHost(kind);
    try {
      const input = startInput({ case: "telegram", value: { password: TG_PASSWORD } });
      const started = await host.connector.start(input, call());
      expect(started.checkpoint?.qrCode).toMatch(/^tg:\/\/login\?token=/);
      const events = follow(host.connector, input.intentId);
      (await fake.client(0)).scan({ user: telegramUser(), password: TG_PASSWORD });
      const connected = await events.until((e) => e.state.status === "CONNECTED");
      expect(connected.state.session).toEqual({ format: "gramjs-string-session/v1", data: fake.clients[0]!.session.save() });
      expect(connected.state.details).toEqual({ phone: "+33612345678" });
      expect(host.logs.join("\n")).not.toContain(TG_PASSWORD);
      expect(host.logs.join("\n")).not.toContain(connected.state.session!.data);
    } finally {
      await host.close();
    }
  });

  it("Telegram: TWO_FACTOR checkpoint, a wrong password (invalid_checkpoint_code, still open), then the right one", async () => {
    const { fake, host } = await telegramHost(kind);
    try {
      const input = startInput({ case: "telegram", value: {} });
      await host.connector.start(input, call());
      const events = follow(host.connector, input.intentId);
      (await fake.client(0)).scan({ user: telegramUser(), password: TG_PASSWORD });
      await events.until((e) => e.state.checkpoint?.type === "TWO_FACTOR");
      await expect(host.connector.solve(input.intentId, "wrong", call())).rejects.toMatchObject({ kind: "invalid_checkpoint_code" });
      expect(await host.connector.get(input.intentId, call())).toMatchObject({ status: "CHECKPOINT", checkpoint: { type: "TWO_FACTOR" } });
      expect(await host.connector.solve(input.intentId, TG_PASSWORD, call())).toMatchObject({ status: "CONNECTED", identity: { providerUserId: "777000123", handle: "anna_k" } });
    } finally {
      await host.close();
    }
  });

  it("Telegram: a flood wait at the start is a retryable error carrying Telegram's delay", async () => {
    const { fake, host } = await telegramHost(kind);
    fake.configure = (client) => (client.floodWaitSeconds = 17);
    try {
      await expect(host.connector.start(startInput({ case: "telegram", value: {} }), call())).rejects.toMatchObject({ kind: "provider_error", retryAfterMs: 17_000 });
    } finally {
      await host.close();
    }
  });

  it("Telegram without TELEGRAM_API_ID / TELEGRAM_API_HASH: feature_not_implemented", async () => {
    const host = await startHost(kind, [createTelegramDriver({ app: undefined })]);
    try {
      const error = await host.connector.start(startInput({ case: "telegram", value: {} }), call()).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "feature_not_implemented" });
      // In process the message names both variables; a gateway's message is not passed on (its log names them).
      if (kind === "in-process") expect((error as Error).message).toMatch(/TELEGRAM_API_ID and TELEGRAM_API_HASH/);
      expect(host.host.pendingSessions).toBe(0);
    } finally {
      await host.close();
    }
  });
});
