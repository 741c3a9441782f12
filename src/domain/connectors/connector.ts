import type { Logger } from "pino";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { ProviderIdentity } from "../../store/store.ts";

/** One request variant (provider + authentication method), as the generated oneof holds it. */
export type Variant = Exclude<ConnectAccountRequest["variant"], { case: undefined }>;
export type VariantCase = Variant["case"];
// A mapped type rather than Extract<>, so Connector<"mail"> stays assignable to Connector.
type VariantValues = { [V in Variant as V["case"]]: V["value"] };
export type VariantOf<C extends VariantCase> = VariantValues[C];

/** The options every variant shares (top-level fields of ConnectAccountRequest). */
export interface SharedOptions {
  country: string;
  ip: string;
}

export interface ConnectorInput<C extends VariantCase = VariantCase> {
  /** Already validated against the proto's rules. */
  variant: VariantOf<C>;
  shared: SharedOptions;
  /** Aborts on the caller's cancellation or deadline: stop work and close sockets. */
  signal: AbortSignal;
  /** When the caller stops waiting; connectors budget their own timeouts against it. */
  deadline: Date;
  /** Child logger of the request. Never log a credential. */
  log: Logger;
  /**
   * How an OAuth connector renews an access token the provider refused. Without it, it runs the
   * refresh_token grant with the request's refresh token (a connection: nothing is stored yet).
   * A stored account's health check passes the account's one refresher, which refreshes under
   * the account's lock and stores the result: no second refresh races GetCredentials'.
   */
  renewAccessToken?: (rejectedAccessToken: string) => Promise<RefreshedToken>;
}

export interface RefreshedToken {
  accessToken: string;
  /** Microsoft rotates refresh tokens: the newest one must replace the stored one. */
  refreshToken: string | undefined;
  expiresAt: Date | undefined;
  /** The scopes the token endpoint says the new access token carries (space-separated `scope`, RFC 6749 §5.1); empty when it did not say. */
  scopes: string[];
}

export interface ConnectorResult {
  identity: ProviderIdentity;
  /**
   * Secrets that replace the request's before sealing, e.g. a refreshed OAuth access
   * token (key = the variant's field name in camelCase, e.g. "accessToken").
   */
  updatedSecrets?: Record<string, string>;
  /** Expiry of the stored OAuth access token, when the provider said. */
  accessTokenExpiresAt?: Date;
  /** The scopes the token endpoint granted the stored OAuth access token, when it refreshed it and said. */
  grantedScopes?: string[];
  /** Non-secret facts to keep with the account (e.g. resolved encryption mode). */
  details?: Record<string, string>;
}

/**
 * Verifies credentials with one provider and says who they belong to. Failures are
 * thrown as AppError naming a catalogue entry (invalid_credentials, account_restricted,
 * request_timeout, provider_error, ...), with safe metadata only.
 */
export interface Connector<C extends VariantCase = VariantCase> {
  readonly variants: readonly C[];
  connect(input: ConnectorInput<C>): Promise<ConnectorResult>;
}
