import type { Logger } from "pino";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { ErrorKind } from "../../errors/catalogue.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import type { VariantCase } from "./connector.ts";

/**
 * Connectors whose login may stop at a checkpoint (a code, a QR code to scan) and complete
 * later, out of band: the provider-session gateways. Unlike a Connector, whose connect()
 * answers once, an InteractiveConnector keeps a remote authentication alive under a key (our
 * intent id) that any replica can address: start it, follow its events, solve, resend,
 * cancel, read it.
 *
 * States are plain JSON-safe data: they are stored in the intent (intents.state) as they are.
 * None holds a secret (codes typed by the person go in, never come back) except `session` on
 * CONNECTED, which the engine seals with the account and strips before storing the state.
 */

/** What the provider asks for (the API's CheckpointType without its prefix). */
export type CheckpointKind = "TWO_FACTOR" | "OTP" | "IN_APP_VALIDATION" | "CAPTCHA" | "PHONE_REGISTER" | "QR_CODE" | "PAIRING_CODE";

export interface CheckpointInfo {
  type: CheckpointKind;
  qrCode?: string;
  pairingCode?: string;
  captchaData?: string;
  /** Where a code was sent, masked as the provider shows it. */
  codeSentTo?: string;
  /** ISO 8601: when this checkpoint stops being valid. */
  expiresAt?: string;
}

export type AuthStatus = "PENDING" | "CHECKPOINT" | "CONNECTED" | "FAILED" | "CANCELED" | "EXPIRED";

/** A remote authentication as the gateway reports it. */
export interface AuthState {
  status: AuthStatus;
  /** Grows with every change at the gateway: older snapshots are ignored. */
  version: number;
  checkpoint?: CheckpointInfo;
  /** CONNECTED: who logged in. */
  identity?: ProviderIdentity;
  /** FAILED: why, as a catalogue kind. */
  errorKind?: ErrorKind;
  /** FAILED: when the provider said it may be tried again (a Telegram flood wait); becomes RetryInfo. */
  retryAfterMs?: number;
  /** FAILED: the error's safe metadata (e.g. `subtask` naming the provider step that stopped the login). Never a secret. */
  errorMetadata?: Record<string, string>;
  /** CONNECTED: non-secret facts to keep with the account. */
  details?: Record<string, string>;
  /** Behind a gateway: host:port of the replica holding the provider session; later calls about the intent go there. */
  replica?: string;
  /** CONNECTED, from a driver: the provider session the login ended with. A secret: sealed with the account, never kept in the intent, an event, a log or a response. */
  session?: ProviderSession;
}

/** A driver's lasting credential (Baileys auth state, a GramJS StringSession, session cookies). */
export interface ProviderSession {
  /** What `data` is, versioned, e.g. "baileys-auth/v1", "gramjs-string-session/v1", "cookies/v1". */
  format: string;
  /** The serialized material. */
  data: string;
}

export type AuthEventKind = "SNAPSHOT" | "CHECKPOINT" | "CHECKPOINT_REFRESHED" | "CONNECTED" | "FAILED" | "CANCELED" | "EXPIRED";

export interface AuthEvent {
  kind: AuthEventKind;
  state: AuthState;
}

export const FINAL_AUTH_STATUSES: ReadonlySet<AuthStatus> = new Set(["CONNECTED", "FAILED", "CANCELED", "EXPIRED"]);

/** What one call to the gateway needs from the caller. */
export interface InteractiveCall {
  /** Aborts the call (the caller went away, its deadline passed, the intent was canceled). */
  signal: AbortSignal;
  /** The latest the gateway may answer. */
  deadline: Date;
  log: Logger;
  /** The gateway replica the intent's state named (AuthState.replica, kept on the intent): the call goes there. */
  replica?: string;
}

export interface StartInput {
  /** Our intent id: the key of the remote authentication in every later call. */
  intentId: string;
  workspaceId: string;
  accountId: string;
  /** The whole request, secrets included: they travel over this call only. */
  request: ConnectAccountRequest;
}

/**
 * Failures are AppErrors naming catalogue entries: no_channel (gateway unreachable),
 * no_handler (no handler for the variant), no_client_session (the session behind the key is
 * gone), invalid_checkpoint_code, no_pending_checkpoint, request_timeout, ...
 */
export interface InteractiveConnector<C extends VariantCase = VariantCase> {
  readonly kind: "interactive";
  readonly variants: readonly C[];
  start(input: StartInput, call: InteractiveCall): Promise<AuthState>;
  solve(key: string, code: string, call: InteractiveCall): Promise<AuthState>;
  resend(key: string, call: InteractiveCall): Promise<AuthState>;
  cancel(key: string, call: InteractiveCall): Promise<AuthState>;
  get(key: string, call: InteractiveCall): Promise<AuthState>;
  /** The authentication's events: the current state first, then every change; ends after a final one. */
  events(key: string, signal: AbortSignal, log: Logger): AsyncIterable<AuthEvent>;
}
