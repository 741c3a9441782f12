import { makeWASocket, type BaileysEventMap, type UserFacingSocketConfig } from "baileys";

/**
 * What the driver uses of a Baileys socket: its event emitter (`connection.update`,
 * `creds.update`), the pairing-code request and end(). This is the seam the tests fake:
 * WhatsApp's Noise handshake pins WhatsApp's certificate, so no local server can stand in
 * for it; everything on our side of the socket is the real driver.
 */
export interface WhatsAppSocket {
  ev: { on<E extends keyof BaileysEventMap>(event: E, listener: (arg: BaileysEventMap[E]) => void): void };
  requestPairingCode(phoneNumber: string): Promise<string>;
  end(error: Error | undefined): unknown;
}

export type WhatsAppSocketFactory = (config: UserFacingSocketConfig) => WhatsAppSocket;

/** Baileys itself: a WebSocket to WhatsApp (through the config's agent, when there is a proxy). */
export const baileysSocket: WhatsAppSocketFactory = (config) => makeWASocket(config);
