import { randomBytes } from "node:crypto";
import { Boom } from "@hapi/boom";
import { DisconnectReason, makeEventBuffer, type AuthenticationCreds, type UserFacingSocketConfig } from "baileys";
import pino from "pino";
import type { WhatsAppSocket, WhatsAppSocketFactory } from "../../../src/drivers/whatsapp/socket.ts";

/**
 * A stand-in for Baileys' makeWASocket at the driver's socket seam. It emits what the library
 * emits (src/Socket/socket.ts of Baileys 7): `connection.update` {connection: "connecting"} on
 * the next tick, {qr} for each ref of the pair-device stanza, on pair-success a `creds.update`
 * with `me` then {isNewLogin: true}, and a close whose lastDisconnect.error is the Boom the
 * library builds (515 "Stream Errored (restart required)", 401 "Connection Failure", 408 "QR
 * refs attempts ended", ...). Its emitter is Baileys' own (makeEventBuffer). The test plays
 * WhatsApp's and the phone's part by calling the methods below.
 */
export class FakeWhatsAppSocket implements WhatsAppSocket {
  readonly ev = makeEventBuffer(pino({ level: "silent" }) as unknown as Parameters<typeof makeEventBuffer>[0]);
  readonly config: UserFacingSocketConfig;
  readonly pairingRequests: string[] = [];
  ended = false;

  constructor(config: UserFacingSocketConfig) {
    this.config = config;
    process.nextTick(() => this.ev.emit("connection.update", { connection: "connecting", receivedPendingNotifications: false, qr: undefined }));
  }

  get creds(): AuthenticationCreds {
    return this.config.auth!.creds;
  }

  /** WhatsApp sends the next QR ref (a new one about every 20 s). */
  showQr(ref = randomBytes(8).toString("base64")): string {
    const qr = `${ref},${Buffer.from(this.creds.noiseKey.public).toString("base64")},${Buffer.from(this.creds.signedIdentityKey.public).toString("base64")},${this.creds.advSecretKey}`;
    this.ev.emit("connection.update", { qr });
    return qr;
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    this.pairingRequests.push(phoneNumber);
    // As Baileys: an 8-character Crockford code, and `me` set to the number being paired.
    const code = randomBytes(5).toString("hex").toUpperCase().slice(0, 8);
    this.ev.emit("creds.update", { pairingCode: code, me: { id: `${phoneNumber}@s.whatsapp.net`, name: "~" } });
    return code;
  }

  /** The phone scanned the QR (or typed the code): pair-success, then WhatsApp asks for a restart. */
  pairSuccess(phoneNumber: string, pushName: string): void {
    this.ev.emit("creds.update", { me: { id: `${phoneNumber}:7@s.whatsapp.net`, name: pushName }, platform: "android", registered: true, account: { details: Buffer.from("adv-details"), accountSignatureKey: randomBytes(32), accountSignature: randomBytes(64), deviceSignature: randomBytes(64) } });
    this.ev.emit("connection.update", { isNewLogin: true, qr: undefined });
    this.close(new Boom("Stream Errored (restart required)", { statusCode: DisconnectReason.restartRequired }));
  }

  /** CB:success: logged in with the stored credentials. */
  open(lid = "123456789@lid"): void {
    this.ev.emit("creds.update", { me: { ...this.creds.me!, lid } });
    this.ev.emit("connection.update", { connection: "open" });
  }

  /** CB:failure with a reason (401 logged out, 403 banned, ...). */
  failure(reason: number): void {
    this.close(new Boom("Connection Failure", { statusCode: reason, data: { reason: String(reason) } }));
  }

  /** The last QR ref timed out. */
  qrRefsEnded(): void {
    this.close(new Boom("QR refs attempts ended", { statusCode: DisconnectReason.timedOut }));
  }

  end(error: Error | undefined): void {
    this.ended = true;
    this.close(error);
  }

  private close(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.ev.emit("connection.update", { connection: "close", lastDisconnect: { error, date: new Date() } });
    this.ev.removeAllListeners("connection.update");
  }

  private closed = false;
}

/** The factory the driver is given, and every socket it made, in order. */
export function fakeBaileys(): { factory: WhatsAppSocketFactory; sockets: FakeWhatsAppSocket[]; next(index: number): Promise<FakeWhatsAppSocket> } {
  const sockets: FakeWhatsAppSocket[] = [];
  const waiters: (() => void)[] = [];
  return {
    sockets,
    factory: (config) => {
      const socket = new FakeWhatsAppSocket(config);
      sockets.push(socket);
      for (const wake of waiters.splice(0)) wake();
      return socket;
    },
    async next(index) {
      while (!sockets[index]) await new Promise<void>((resolve) => waiters.push(resolve));
      // Let the driver subscribe and the "connecting" tick pass.
      await new Promise((resolve) => setImmediate(resolve));
      return sockets[index]!;
    },
  };
}
