import type { Logger } from "pino";
import type { ProxyCredentials, WebLoginCredentials } from "../../gen/postpress/credentials/v1/credentials_pb.js";
import type { SharedOptions, VariantCase } from "../domain/connectors/connector.ts";
import type { AuthState } from "../domain/connectors/interactive.ts";

/**
 * A provider driver: the code that logs a person in the way the provider's own client does
 * (a WhatsApp or Telegram protocol client, a web login, a cookie check). Drivers know nothing
 * of intents, stores or transports; a host runs them: the in-process host (the server's
 * default) or the gateway process (ProviderGatewayService over gRPC). Both hosts turn a
 * DriverLogin into the InteractiveConnector the intent engine speaks to.
 */
export interface ProviderDriver<C extends VariantCase = VariantCase> {
  readonly variants: readonly C[];
  /** Starts one login. Its states arrive through `onState` until a final one (CONNECTED, FAILED, CANCELED, EXPIRED). */
  begin(input: DriverInput): DriverLogin;
}

export interface DriverInput {
  /** Our intent id: names the login in logs (never a secret). */
  key: string;
  /** The login's credentials, in the service's own type (what the gateway contract carries); its `variant` is one of the driver's. */
  login: WebLoginCredentials;
  /** The proxy the provider session goes through, if the login names one. */
  proxy: ProxyCredentials | undefined;
  shared: SharedOptions;
  /**
   * Every change of the login, in order: PENDING, CHECKPOINT (a new or refreshed one),
   * CONNECTED (with identity and `session`), FAILED (with errorKind), CANCELED, EXPIRED.
   * `version` is filled by the host; a driver may leave it 0.
   */
  onState(state: AuthState): void;
  /** Child logger of the login. Never log a credential. */
  log: Logger;
}

export interface DriverLogin {
  /** The latest state reported. */
  current(): AuthState;
  /** Answers the open checkpoint; resolves with the state it leads to (a wrong code throws invalid_checkpoint_code and leaves it open). */
  solve(code: string, signal: AbortSignal): Promise<AuthState>;
  /** Asks the provider for a new code or QR; throws no_pending_checkpoint when none can be resent. */
  resend(signal: AbortSignal): Promise<AuthState>;
  /** Abandons the login: closes every socket; the state becomes CANCELED unless already final. */
  cancel(): Promise<void>;
}
