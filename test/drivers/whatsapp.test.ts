import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WhatsappAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { AppError } from "../../src/errors/app-error.ts";
import { WhatsAppAuthState } from "../../src/drivers/whatsapp/auth-state.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { createWhatsAppDriver } from "../../src/drivers/whatsapp/driver.ts";
import { reopenWhatsApp } from "../../src/drivers/whatsapp/reopen.ts";
import { fakeBaileys } from "../support/drivers/fake-baileys.ts";
import { drive } from "../support/drivers/drive.ts";

const PHONE = "33612345678";

function variant(fields: { pairingPhoneNumber?: string; proxy?: { protocol: ProxyProtocol; host: string; port: number; username?: string; password?: string } } = {}) {
  return create(WhatsappAuthSchema, fields);
}

describe("WhatsApp driver (Baileys, faked at its socket factory)", () => {
  it("QR code, rotated QR code, restart required (515), then connected with the session", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const first = await fake.next(0);
    const qr1 = first.showQr();
    const checkpoint = await run.until((s) => s.checkpoint?.qrCode === qr1);
    expect(checkpoint).toMatchObject({ status: "CHECKPOINT", checkpoint: { type: "QR_CODE" } });
    expect(Date.parse(checkpoint.checkpoint!.expiresAt!) - Date.now()).toBeGreaterThan(50_000);
    const qr2 = first.showQr();
    const rotated = await run.until((s) => s.checkpoint?.qrCode === qr2);
    expect(Date.parse(rotated.checkpoint!.expiresAt!) - Date.now()).toBeLessThanOrEqual(20_000);
    expect(rotated.version).toBeGreaterThan(checkpoint.version);

    first.pairSuccess(PHONE, "Anna");
    const second = await fake.next(1);
    // The restart reuses the credentials just paired.
    expect(second.config.auth!.creds.me?.id).toBe(`${PHONE}:7@s.whatsapp.net`);
    second.open();
    const connected = await run.until((s) => s.status === "CONNECTED");
    expect(connected.identity).toEqual({ providerUserId: PHONE, handle: `+${PHONE}`, displayName: "Anna" });
    expect(connected.session?.format).toBe("baileys-auth/v1");
    expect(second.ended).toBe(true);
    expect(run.login.current().status).toBe("CONNECTED");
    // The session is the whole auth state, byte arrays included, and never logged.
    const reopened = WhatsAppAuthState.fromSession(connected.session!);
    expect(Buffer.from(reopened.state.creds.noiseKey.private)).toEqual(Buffer.from(second.config.auth!.creds.noiseKey.private));
    expect(run.lines.join("\n")).not.toContain(Buffer.from(reopened.state.creds.noiseKey.private).toString("base64"));
    expect(run.lines.join("\n")).not.toContain(connected.session!.data.slice(0, 40));
  });

  it("pairing code: asked once the socket is ready, sent again on resend, then connected", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant({ pairingPhoneNumber: `+${PHONE}` }));
    const socket = await fake.next(0);
    socket.showQr();
    const checkpoint = await run.until((s) => s.checkpoint?.type === "PAIRING_CODE");
    expect(socket.pairingRequests).toEqual([PHONE]);
    expect(checkpoint.checkpoint!.pairingCode).toMatch(/^[0-9A-F]{8}$/);
    // A rotated QR nobody sees changes nothing.
    socket.showQr();
    const resent = await run.login.resend(AbortSignal.timeout(5000));
    expect(resent.checkpoint!.pairingCode).not.toBe(checkpoint.checkpoint!.pairingCode);
    expect(socket.pairingRequests).toEqual([PHONE, PHONE]);
    await expect(run.login.solve("12345678", AbortSignal.timeout(5000))).rejects.toMatchObject({ kind: "no_pending_checkpoint" });
    socket.pairSuccess(PHONE, "Anna");
    (await fake.next(1)).open();
    expect((await run.until((s) => s.status === "CONNECTED")).identity?.providerUserId).toBe(PHONE);
  });

  it.each([
    [401, "FAILED", "invalid_credentials"],
    [403, "FAILED", "account_restricted"],
    [503, "FAILED", "service_unavailable"],
  ] as const)("a connection failure %i ends the login %s with %s", async (reason, status, errorKind) => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const socket = await fake.next(0);
    socket.showQr();
    socket.failure(reason);
    expect(await run.until((s) => s.status !== "PENDING" && s.status !== "CHECKPOINT")).toMatchObject({ status, errorKind });
    expect(fake.sockets).toHaveLength(1);
  });

  it("logged out right after the restart (the phone removed the device) is invalid_credentials", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const first = await fake.next(0);
    first.showQr();
    first.pairSuccess(PHONE, "Anna");
    (await fake.next(1)).failure(401);
    expect(await run.until((s) => s.status === "FAILED")).toMatchObject({ errorKind: "invalid_credentials" });
  });

  it("QR refs exhausted: EXPIRED with intent_expired", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const socket = await fake.next(0);
    socket.showQr();
    socket.qrRefsEnded();
    expect(await run.until((s) => s.status === "EXPIRED")).toMatchObject({ errorKind: "intent_expired" });
  });

  it("cancel closes the socket and nothing the socket says afterwards changes the outcome", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const socket = await fake.next(0);
    socket.showQr();
    await run.until((s) => s.status === "CHECKPOINT");
    await run.login.cancel();
    expect(socket.ended).toBe(true);
    expect(run.login.current().status).toBe("CANCELED");
    socket.showQr();
    expect(run.states.at(-1)!.status).toBe("CANCELED");
    await expect(run.login.resend(AbortSignal.timeout(1000))).rejects.toBeInstanceOf(AppError);
  });

  it("reopens a handed-over session: same credentials, identity, no QR", async () => {
    const fake = fakeBaileys();
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, socketFactory: fake.factory }), variant());
    const first = await fake.next(0);
    first.showQr();
    first.pairSuccess(PHONE, "Anna");
    (await fake.next(1)).open();
    const { session } = await run.until((s) => s.status === "CONNECTED");

    const opening = reopenWhatsApp(session!, { log: run.log, signal: AbortSignal.timeout(10_000) }, { guard: loopbackGuard, socketFactory: fake.factory });
    const third = await fake.next(2);
    expect(third.config.auth!.creds.me?.id).toBe(`${PHONE}:7@s.whatsapp.net`);
    third.open();
    const reopened = await opening;
    expect(reopened.identity.providerUserId).toBe(PHONE);
    reopened.close();
    expect(third.ended).toBe(true);

    // A device the phone removed since: invalid_credentials.
    const failing = reopenWhatsApp(session!, { log: run.log, signal: AbortSignal.timeout(10_000) }, { guard: loopbackGuard, socketFactory: fake.factory });
    (await fake.next(3)).failure(401);
    await expect(failing).rejects.toMatchObject({ kind: "invalid_credentials" });
  });
});

describe("WhatsApp driver through the account's proxy (real Baileys socket, local proxies)", () => {
  let httpProxy: http.Server;
  let socksProxy: net.Server;
  let refusedPort: number;

  beforeAll(async () => {
    // An HTTP proxy that wants other credentials, a SOCKS5 proxy that refuses user/password, a closed port.
    httpProxy = http.createServer().on("connect", (_req, socket: net.Socket) => socket.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"));
    socksProxy = net.createServer((s) => s.once("data", () => (s.write(Buffer.from([5, 2])), s.once("data", () => s.end(Buffer.from([1, 1]))))));
    await Promise.all([httpProxy, socksProxy].map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    refusedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
  });
  afterAll(() => {
    httpProxy.close();
    socksProxy.close();
  });

  const password = "S3CRET-proxy-password";
  it.each([
    ["HTTP proxy refusing the connection", () => ({ protocol: ProxyProtocol.HTTP, host: "127.0.0.1", port: refusedPort }), "proxy_error"],
    ["SOCKS5 proxy refusing the connection", () => ({ protocol: ProxyProtocol.SOCKS5, host: "127.0.0.1", port: refusedPort }), "proxy_error"],
    ["HTTP proxy answering 407", () => ({ protocol: ProxyProtocol.HTTP, host: "127.0.0.1", port: (httpProxy.address() as AddressInfo).port, username: "wa", password }), "proxy_auth_error"],
    ["SOCKS5 proxy refusing the credentials", () => ({ protocol: ProxyProtocol.SOCKS5, host: "127.0.0.1", port: (socksProxy.address() as AddressInfo).port, username: "wa", password }), "proxy_auth_error"],
  ] as const)("%s: FAILED with %s, the password nowhere", async (_name, proxy, errorKind) => {
    const run = drive(createWhatsAppDriver({ guard: loopbackGuard, connectTimeoutMs: 5_000 }), variant({ proxy: proxy() }));
    const failed = await run.until((s) => s.status === "FAILED");
    expect(failed.errorKind).toBe(errorKind);
    expect(JSON.stringify(run.states) + run.lines.join("\n")).not.toContain(password);
  });
});
