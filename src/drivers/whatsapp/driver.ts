import { Browsers, jidDecode, type ConnectionState, type UserFacingSocketConfig } from "baileys";
import type { Logger } from "pino";
import { AppError } from "../../errors/app-error.ts";
import type { AuthState, ProviderSession } from "../../domain/connectors/interactive.ts";
import type { DriverInput, DriverLogin, ProviderDriver } from "../driver.ts";
import { LoginState } from "../login-state.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import { proxyAgentFor } from "../proxy/agent.ts";
import { WhatsAppAuthState } from "./auth-state.ts";
import { classifyDisconnect } from "./disconnect.ts";
import { baileysSocket, type WhatsAppSocket, type WhatsAppSocketFactory } from "./socket.ts";

export interface WhatsAppDriverOptions {
  /** Where the account's proxy may be: it is dialled only if the guard allows its host. */
  guard: TargetGuard;
  /** The Baileys socket factory: the library itself unless a test fakes it. */
  socketFactory?: WhatsAppSocketFactory;
  /** WhatsApp's WebSocket URL (Baileys' default when unset); tests point it at a local port. */
  webSocketUrl?: string;
  connectTimeoutMs?: number;
  /** How many "restart required" (515) closes one login may go through (one is normal, after the scan). */
  maxRestarts?: number;
}

/** Baileys' QR lifetimes (src/Socket/socket.ts): the first QR lives 60 s, the next ones 20 s. */
const FIRST_QR_MS = 60_000;
const NEXT_QR_MS = 20_000;

/**
 * WhatsApp through Baileys, as a linked device: the person scans a QR code (or types a pairing
 * code) on the phone. WhatsApp then closes the socket with "restart required" (515); the login
 * reopens it with the credentials just paired and is CONNECTED when the socket opens. The
 * authentication state at that moment is the session handed over.
 */
export function createWhatsAppDriver(options: WhatsAppDriverOptions): ProviderDriver<"whatsapp"> {
  return {
    variants: ["whatsapp"],
    begin: (input) => new WhatsAppLogin(input, options),
  };
}

export function openWhatsAppSocket(auth: WhatsAppAuthState, input: { log: Logger; proxy?: DriverInput["proxy"] }, options: WhatsAppDriverOptions): WhatsAppSocket {
  const factory = options.socketFactory ?? baileysSocket;
  const socket = factory({
    auth: auth.state,
    // Baileys logs frames at debug and trace: at most its warnings reach our log (never louder than ours).
    logger: input.log.child({ lib: "baileys" }, { level: input.log.isLevelEnabled("warn") ? "warn" : input.log.level }) as unknown as UserFacingSocketConfig["logger"],
    browser: Browsers.ubuntu("Chrome"),
    printQRInTerminal: false,
    markOnlineOnConnect: false,
    syncFullHistory: false,
    // Typed as an https.Agent by Baileys; `ws` takes any http.Agent, which a proxy agent is.
    ...(input.proxy ? { agent: proxyAgentFor(input.proxy, options.guard) as UserFacingSocketConfig["agent"] } : {}),
    ...(options.webSocketUrl ? { waWebSocketUrl: options.webSocketUrl } : {}),
    ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
  });
  socket.ev.on("creds.update", (update) => auth.updateCreds(update));
  return socket;
}

/** Who the paired device belongs to: the phone number of its JID, and the push name. */
export function whatsAppIdentity(auth: WhatsAppAuthState): NonNullable<AuthState["identity"]> {
  const me = auth.state.creds.me;
  const user = jidDecode(me?.id)?.user;
  if (!me || !user) throw new AppError("provider_error", { detail: "WhatsApp opened the session without naming the account." });
  return { providerUserId: user, handle: `+${user}`, ...(me.name && me.name !== "~" ? { displayName: me.name } : {}) };
}

class WhatsAppLogin implements DriverLogin {
  private readonly input: DriverInput;
  private readonly options: WhatsAppDriverOptions;
  private readonly state: LoginState;
  private readonly auth = new WhatsAppAuthState();
  private socket: WhatsAppSocket | undefined;
  private restarts = 0;
  private qrCount = 0;
  private pairingRequested = false;

  constructor(input: DriverInput, options: WhatsAppDriverOptions) {
    this.input = input;
    this.options = options;
    this.state = new LoginState(input.onState);
    this.open();
  }

  current(): AuthState {
    return this.state.current();
  }

  async solve(): Promise<AuthState> {
    // Both checkpoints are confirmed on the phone: there is no code to type here.
    throw new AppError("no_pending_checkpoint", { detail: "WhatsApp confirms on the phone: scan the QR code or type the pairing code in WhatsApp." });
  }

  async resend(): Promise<AuthState> {
    const checkpoint = this.state.current().checkpoint;
    if (this.state.final || checkpoint?.type !== "PAIRING_CODE" || !this.socket) {
      throw new AppError("no_pending_checkpoint", { detail: "WhatsApp renews QR codes by itself; only a pairing code can be asked for again." });
    }
    await this.requestPairingCode(this.socket);
    return this.state.current();
  }

  async cancel(): Promise<void> {
    this.state.set({ status: "CANCELED" });
    this.close();
  }

  private get pairingPhone(): string {
    return this.input.login.pairingPhoneNumber.replace(/^\+/, "");
  }

  private open(): void {
    const socket = openWhatsAppSocket(this.auth, { log: this.input.log, proxy: this.input.proxy }, this.options);
    this.socket = socket;
    socket.ev.on("connection.update", (update) => this.onUpdate(socket, update));
  }

  private close(): void {
    const socket = this.socket;
    this.socket = undefined;
    // end() with no error is a normal close; Baileys' own close event is then ignored (final state).
    socket?.end(undefined);
  }

  private onUpdate(socket: WhatsAppSocket, update: Partial<ConnectionState>): void {
    if (socket !== this.socket || this.state.final) return;
    if (update.qr) this.onQr(socket, update.qr);
    if (update.connection === "open") this.onOpen();
    else if (update.connection === "close") this.onClose(update.lastDisconnect?.error);
  }

  private onQr(socket: WhatsAppSocket, qr: string): void {
    if (this.pairingPhone) {
      // The first QR says the socket is ready for pairing; later ones rotate a QR nobody sees.
      if (!this.pairingRequested) {
        this.pairingRequested = true;
        void this.requestPairingCode(socket).catch((error: unknown) => this.fail("provider_error", error));
      }
      return;
    }
    const lifetime = this.qrCount++ === 0 ? FIRST_QR_MS : NEXT_QR_MS;
    this.state.set({ status: "CHECKPOINT", checkpoint: { type: "QR_CODE", qrCode: qr, expiresAt: new Date(Date.now() + lifetime).toISOString() } });
  }

  private async requestPairingCode(socket: WhatsAppSocket): Promise<void> {
    const code = await socket.requestPairingCode(this.pairingPhone);
    if (socket !== this.socket) return;
    this.state.set({ status: "CHECKPOINT", checkpoint: { type: "PAIRING_CODE", pairingCode: code } });
  }

  private onOpen(): void {
    let identity: NonNullable<AuthState["identity"]>;
    let session: ProviderSession;
    try {
      identity = whatsAppIdentity(this.auth);
      session = this.auth.toSession();
    } catch (error) {
      this.fail("provider_error", error);
      return;
    }
    this.state.set({ status: "CONNECTED", identity, session, details: { linkedDevice: "true" } });
    this.input.log.info({ restarts: this.restarts }, "WhatsApp device linked");
    this.close();
  }

  private onClose(error: Error | undefined): void {
    this.socket = undefined;
    const outcome = classifyDisconnect(error);
    if (outcome.restart && this.restarts < (this.options.maxRestarts ?? 2)) {
      // After the scan WhatsApp asks for a new connection with the credentials it just paired.
      this.restarts++;
      this.input.log.debug({ restarts: this.restarts }, "WhatsApp asked for a restart; reconnecting");
      this.open();
      return;
    }
    const final = outcome.restart ? { status: "FAILED" as const, errorKind: "provider_error" as const } : outcome;
    this.input.log.info({ status: final.status, errorKind: final.errorKind, statusCode: (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode }, "WhatsApp login ended");
    this.state.set({ status: final.status, errorKind: final.errorKind });
  }

  private fail(errorKind: "provider_error", error: unknown): void {
    this.input.log.warn({ err: error instanceof Error ? { message: error.message } : undefined }, "WhatsApp login failed");
    this.state.set({ status: "FAILED", errorKind });
    this.close();
  }
}
