/**
 * The scripted provider sessions behind the scripted gateway: each authentication plays one of
 * the providers' documented behaviours, picked by the request. No provider is contacted.
 *
 * Username-and-password variants (linkedin_basic, instagram_basic, messenger_basic, twitter)
 * pick a behaviour by the user name's keyword: its part before the first "+" or "@"
 * ("2fa+anna" and "2fa@acme.com" both play "2fa"):
 *
 * | keyword      | behaviour                                                                         |
 * |--------------|-----------------------------------------------------------------------------------|
 * | ok (default) | password accepted: connected                                                      |
 * | wrong        | wrong password: failed errors/invalid_credentials                                 |
 * | 2fa          | TWO_FACTOR checkpoint (code sent to a masked phone); code 123456 connects; any other code answers errors/invalid_checkpoint_code and the checkpoint stays open |
 * | otp / email  | OTP checkpoint (code sent to a masked e-mail, X's "check your e-mail"); code 123456 |
 * | captcha      | CAPTCHA checkpoint (an SVG data URL showing the answer W7KQ); answer W7KQ           |
 * | inapp        | IN_APP_VALIDATION checkpoint; approved in the app after inAppAfterMs: connected   |
 * | restricted   | failed errors/account_restricted                                                  |
 * | slow         | the provider answers after slowMs, with a TWO_FACTOR checkpoint                   |
 * | timeout      | the provider never answers (the caller's deadline ends the call)                  |
 * | crash        | TWO_FACTOR checkpoint; when it is solved the worker crashes: the session is gone and every later call about it answers errors/no_client_session |
 *
 * Cookie variants (linkedin_cookie, instagram_cookie, messenger_session) connect, as the
 * person behind the token (keywords apply to the token: "wrong", "restricted").
 *
 * WhatsApp without pairing_phone_number: a QR_CODE checkpoint rotating every qrRotateMs,
 * scanned after scanAfterMs (or by scan()): connected; after maxQrCodes unscanned codes the
 * authentication expires. With pairing_phone_number: a PAIRING_CODE checkpoint, confirmed on
 * the phone after pairAfterMs: connected as that number.
 *
 * Telegram: a rotating QR_CODE checkpoint; once scanned, a TWO_FACTOR checkpoint for the
 * two-step password: the request's password if it carried one, else 123456.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ConnectAccountRequest } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { VariantCase } from "../../src/domain/connectors/connector.ts";
import type { AuthEventKind, AuthState, CheckpointInfo } from "../../src/domain/connectors/interactive.ts";
import type { ErrorKind } from "../../src/errors/catalogue.ts";

export const SCRIPT_CODE = "123456";
export const CAPTCHA_ANSWER = "W7KQ";

export interface ScriptOptions {
  /** How often a QR code rotates (default 5000). */
  qrRotateMs: number;
  /** When a QR code is scanned after the authentication starts (default 12000; null: only by scan()). */
  scanAfterMs: number | null;
  /** Unscanned QR codes before the authentication expires (default 6). */
  maxQrCodes: number;
  /** When a WhatsApp pairing code is confirmed on the phone (default 8000; null: only by scan()). */
  pairAfterMs: number | null;
  /** When an in-app validation is approved (default 3000; null: only by scan()). */
  inAppAfterMs: number | null;
  /** How long a code / captcha checkpoint stays valid (default 300000). */
  checkpointTtlMs: number;
  /** How long "slow" logins take (default 2000). */
  slowMs: number;
  /** Variants this gateway has no handler for (errors/no_handler). */
  unsupported: readonly VariantCase[];
}

export const DEFAULT_SCRIPT_OPTIONS: ScriptOptions = {
  qrRotateMs: 5000,
  scanAfterMs: 12_000,
  maxQrCodes: 6,
  pairAfterMs: 8000,
  inAppAfterMs: 3000,
  checkpointTtlMs: 300_000,
  slowMs: 2000,
  unsupported: [],
};

/** A failure of a gateway call (not of the login): becomes a gRPC status with ErrorInfo. */
export class GatewayFault extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface SessionEvent {
  kind: AuthEventKind;
  state: AuthState;
}

type Step =
  | { kind: "connected" }
  | { kind: "failed"; errorKind: ErrorKind }
  | { kind: "code"; type: CheckpointInfo["type"]; expected: string; extra?: Partial<CheckpointInfo> }
  | { kind: "qr" }
  | { kind: "pairing" }
  | { kind: "inapp" };

/** One provider session: an authentication in progress, keyed by the intent id. */
export class Session {
  readonly intentId: string;
  readonly variant: VariantCase;
  state: AuthState = { status: "PENDING", version: 1 };
  /** What the person must do next, and what solves it. */
  private step: Step | undefined;
  private readonly listeners = new Set<(event: SessionEvent | Error) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private rotation: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private qrCount = 0;
  private readonly engine: ScriptEngine;
  private readonly request: ConnectAccountRequest;
  /** Telegram: the QR was scanned, the two-step password comes next. */
  private afterScan: Step | undefined;

  constructor(engine: ScriptEngine, intentId: string, request: ConnectAccountRequest) {
    this.engine = engine;
    this.intentId = intentId;
    this.request = request;
    this.variant = request.variant.case as VariantCase;
  }

  get final(): boolean {
    return ["CONNECTED", "FAILED", "CANCELED", "EXPIRED"].includes(this.state.status);
  }

  subscribe(listener: (event: SessionEvent | Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs the script's first step; answers once there is an outcome (StartAuthentication waits for it). */
  async begin(signal: AbortSignal): Promise<void> {
    const keyword = this.keyword();
    if (keyword === "timeout") {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      return;
    }
    if (keyword === "slow") {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.engine.options.slowMs);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal.aborted || this.final) return;
    }
    this.enter(this.firstStep(keyword), "CHECKPOINT");
  }

  solve(code: string): void {
    this.engine.checkAlive(this);
    const step = this.step;
    if (this.final || !step || this.state.status !== "CHECKPOINT") throw new GatewayFault("no_pending_checkpoint", "nothing to solve");
    if (step.kind !== "code") throw new GatewayFault("no_pending_checkpoint", "this checkpoint is confirmed on the phone, not by a code");
    if (this.keyword() === "crash") {
      // The worker holding the provider session dies with it.
      this.engine.drop(this.intentId);
      throw new GatewayFault("no_client_session", "the provider session is gone");
    }
    if (code !== step.expected) throw new GatewayFault("invalid_checkpoint_code", "wrong code");
    this.enter({ kind: "connected" }, "CHECKPOINT");
  }

  resend(): void {
    this.engine.checkAlive(this);
    if (this.final || !this.step || this.state.status !== "CHECKPOINT") throw new GatewayFault("no_pending_checkpoint", "nothing to resend");
    if (this.step.kind === "qr") {
      this.rotateQr("CHECKPOINT_REFRESHED");
      return;
    }
    const ttl = this.engine.options.checkpointTtlMs;
    if (this.step.kind === "pairing") {
      this.publish("CHECKPOINT_REFRESHED", { status: "CHECKPOINT", checkpoint: { type: "PAIRING_CODE", pairingCode: pairingCode(), expiresAt: this.expiry(ttl) } });
    } else {
      // Same checkpoint, sent again: a later expiry.
      this.publish("CHECKPOINT_REFRESHED", { status: "CHECKPOINT", checkpoint: { ...this.state.checkpoint!, expiresAt: this.expiry(ttl) } });
    }
    this.expireIn(ttl);
  }

  cancel(): void {
    if (this.final) return;
    this.publish("CANCELED", { status: "CANCELED" });
  }

  /** The person confirmed on the phone (scanned the QR code, typed the pairing code, approved in the app). */
  confirmOnPhone(): void {
    if (this.final || !this.step || !["qr", "pairing", "inapp"].includes(this.step.kind)) return;
    if (this.variant === "telegram") {
      this.afterScan = { kind: "code", type: "TWO_FACTOR", expected: this.request.variant.case === "telegram" && this.request.variant.value.password ? this.request.variant.value.password : SCRIPT_CODE };
      this.enter(this.afterScan, "CHECKPOINT");
      return;
    }
    this.enter({ kind: "connected" }, "CHECKPOINT");
  }

  /** The worker lost the session: streams on it end with no_client_session. */
  lose(): void {
    this.clearTimers();
    for (const listener of [...this.listeners]) listener(new GatewayFault("no_client_session", "the provider session is gone"));
    this.listeners.clear();
  }

  private enter(step: Step, kindIfCheckpoint: "CHECKPOINT"): void {
    this.clearTimers();
    this.step = step;
    const ttl = this.engine.options.checkpointTtlMs;
    switch (step.kind) {
      case "connected":
        this.publish("CONNECTED", { status: "CONNECTED", identity: this.identity(), details: { gateway: "scripted" } });
        return;
      case "failed":
        this.publish("FAILED", { status: "FAILED", errorKind: step.errorKind });
        return;
      case "code":
        this.publish(kindIfCheckpoint, { status: "CHECKPOINT", checkpoint: { type: step.type, ...step.extra, expiresAt: this.expiry(ttl) } });
        this.expireIn(ttl);
        return;
      case "qr":
        this.rotateQr(kindIfCheckpoint);
        if (this.engine.options.scanAfterMs !== null) this.later(this.engine.options.scanAfterMs, () => this.confirmOnPhone());
        return;
      case "pairing": {
        this.publish(kindIfCheckpoint, { status: "CHECKPOINT", checkpoint: { type: "PAIRING_CODE", pairingCode: pairingCode(), expiresAt: this.expiry(ttl) } });
        this.expireIn(ttl);
        if (this.engine.options.pairAfterMs !== null) this.later(this.engine.options.pairAfterMs, () => this.confirmOnPhone());
        return;
      }
      case "inapp":
        this.publish(kindIfCheckpoint, { status: "CHECKPOINT", checkpoint: { type: "IN_APP_VALIDATION", expiresAt: this.expiry(ttl) } });
        this.expireIn(ttl);
        if (this.engine.options.inAppAfterMs !== null) this.later(this.engine.options.inAppAfterMs, () => this.confirmOnPhone());
        return;
    }
  }

  /** A fresh QR code; the next one follows after qrRotateMs, until maxQrCodes went unscanned. */
  private rotateQr(kind: AuthEventKind): void {
    const { qrRotateMs, maxQrCodes } = this.engine.options;
    if (this.rotation) clearTimeout(this.rotation);
    this.qrCount += 1;
    const ref = randomBytes(12).toString("base64url");
    const prefix = this.variant === "telegram" ? "tg://login?token=" : "2@";
    this.publish(this.qrCount === 1 ? kind : "CHECKPOINT_REFRESHED", {
      status: "CHECKPOINT",
      // Valid a little past the next rotation, so a slow reader never shows an expired code.
      checkpoint: { type: "QR_CODE", qrCode: `${prefix}${ref},${this.qrCount}`, expiresAt: this.expiry(qrRotateMs + Math.min(qrRotateMs, 1000)) },
    });
    this.rotation = setTimeout(() => {
      this.rotation = undefined;
      if (this.qrCount >= maxQrCodes) this.publish("EXPIRED", { status: "EXPIRED" });
      else this.rotateQr("CHECKPOINT_REFRESHED");
    }, qrRotateMs);
  }

  private publish(kind: AuthEventKind, next: Omit<AuthState, "version">): void {
    if (this.final) return;
    this.state = { ...next, version: this.state.version + 1 };
    if (this.final) this.clearTimers();
    const event = { kind, state: this.state };
    for (const listener of [...this.listeners]) listener(event);
  }

  /** The provider stops waiting for this checkpoint after `ms` (a resend starts the clock again). */
  private expireIn(ms: number): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.publish("EXPIRED", { status: "EXPIRED" }), ms);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.rotation) clearTimeout(this.rotation);
    this.rotation = undefined;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
  }

  private expiry(ms: number): string {
    return new Date(Date.now() + ms).toISOString();
  }

  /** The keyword of the login (see the table above). */
  keyword(): string {
    const v = this.request.variant;
    const login =
      v.case === "linkedinBasic" || v.case === "instagramBasic" || v.case === "messengerBasic" || v.case === "twitter"
        ? v.value.username
        : v.case === "linkedinCookie"
          ? v.value.accessToken
          : v.case === "instagramCookie"
            ? v.value.sessionid
            : v.case === "messengerSession"
              ? (v.value.cookies.find((c) => c.name === "c_user")?.value ?? v.value.cookies[0]?.value ?? "")
              : "";
    return login.toLowerCase().split(/[+@]/, 1)[0] ?? "";
  }

  private firstStep(keyword: string): Step {
    const v = this.request.variant;
    if (v.case === "whatsapp") return v.value.pairingPhoneNumber ? { kind: "pairing" } : { kind: "qr" };
    if (v.case === "telegram") return { kind: "qr" };
    switch (keyword) {
      case "wrong":
        return { kind: "failed", errorKind: "invalid_credentials" };
      case "restricted":
        return { kind: "failed", errorKind: "account_restricted" };
      case "2fa":
      case "slow":
      case "crash":
        return { kind: "code", type: "TWO_FACTOR", expected: SCRIPT_CODE, extra: { codeSentTo: "+33 6•• •• •• 42" } };
      case "otp":
      case "email":
        return { kind: "code", type: "OTP", expected: SCRIPT_CODE, extra: { codeSentTo: "a•••@e•••.com" } };
      case "captcha":
        return { kind: "code", type: "CAPTCHA", expected: CAPTCHA_ANSWER, extra: { captchaData: captchaImage(CAPTCHA_ANSWER) } };
      case "inapp":
        return { kind: "inapp" };
      default:
        return { kind: "connected" };
    }
  }

  /** Who logged in: stable per login, so connecting the same login twice is a duplicate. */
  private identity(): NonNullable<AuthState["identity"]> {
    const v = this.request.variant;
    switch (v.case) {
      case "linkedinBasic":
      case "instagramBasic":
      case "messengerBasic":
      case "twitter": {
        const name = v.value.username.toLowerCase();
        return { providerUserId: `${v.case}:${name}`, handle: name.split("@", 1)[0]!, displayName: `Scripted ${name.split(/[+@]/, 1)[0]}` };
      }
      case "whatsapp": {
        const phone = v.value.pairingPhoneNumber.replace(/^\+/, "") || `3361${digits(this.intentId, 7)}`;
        return { providerUserId: `wa:${phone}`, handle: `+${phone}`, displayName: "Scripted WhatsApp" };
      }
      case "telegram":
        return { providerUserId: `tg:${digits(this.intentId, 9)}`, displayName: "Scripted Telegram" };
      default: {
        // Cookie variants: the person behind the token (never the token itself).
        // Timestamps (sync_limit dates) hold bigints, which JSON.stringify refuses.
        const token = this.keyword() + JSON.stringify(v.value, (_key, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
        return { providerUserId: `${v.case}:${createHash("sha256").update(token).digest("hex").slice(0, 16)}`, displayName: "Scripted session" };
      }
    }
  }
}

/** All sessions of one scripted gateway. */
export class ScriptEngine {
  readonly options: ScriptOptions;
  private readonly sessions = new Map<string, Session>();
  /** Intent ids whose session was lost (crash, dropSessions): they answer no_client_session. */
  private readonly lost = new Set<string>();

  constructor(options: Partial<ScriptOptions> = {}) {
    this.options = { ...DEFAULT_SCRIPT_OPTIONS, ...options };
  }

  /** StartAuthentication: idempotent per intent id. */
  async start(intentId: string, request: ConnectAccountRequest, signal: AbortSignal): Promise<Session> {
    const variant = request.variant.case;
    if (!variant) throw new GatewayFault("invalid_parameters", "no variant");
    if (this.options.unsupported.includes(variant)) throw new GatewayFault("no_handler", `no handler for ${variant}`);
    if (this.lost.has(intentId)) throw new GatewayFault("no_client_session", "the provider session is gone");
    const existing = this.sessions.get(intentId);
    if (existing) return existing;
    const session = new Session(this, intentId, request);
    this.sessions.set(intentId, session);
    await session.begin(signal);
    return session;
  }

  get(intentId: string): Session {
    const session = this.sessions.get(intentId);
    if (!session) throw new GatewayFault("no_client_session", this.lost.has(intentId) ? "the provider session is gone" : "no such authentication");
    return session;
  }

  checkAlive(session: Session): void {
    if (this.lost.has(session.intentId)) throw new GatewayFault("no_client_session", "the provider session is gone");
  }

  /** Test control: the person confirms on the phone now. */
  confirm(intentId: string): void {
    this.sessions.get(intentId)?.confirmOnPhone();
  }

  /** One session is lost (the worker holding it crashed). */
  drop(intentId: string): void {
    const session = this.sessions.get(intentId);
    this.sessions.delete(intentId);
    this.lost.add(intentId);
    session?.lose();
  }

  /** Every session is lost (the whole worker restarted without its state). */
  dropAll(): void {
    for (const id of [...this.sessions.keys()]) this.drop(id);
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  close(): void {
    for (const session of this.sessions.values()) session.lose();
    this.sessions.clear();
  }
}

function pairingCode(): string {
  const code = randomBytes(4).toString("hex").toUpperCase();
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

function digits(seed: string, n: number): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return BigInt(`0x${hex.slice(0, 15)}`).toString().padStart(n, "0").slice(-n);
}

/** A tiny captcha: an SVG showing the answer, as a data URL. */
function captchaImage(answer: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#eee"/><text x="20" y="28" font-size="22" font-family="monospace">${answer}</text></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
}
