import { AppError } from "../../../errors/app-error.ts";
import type { ErrorKind } from "../../../errors/catalogue.ts";
import type { ProviderIdentity } from "../../../store/store.ts";
import type { ConnectorInput, ConnectorResult } from "../connector.ts";
import type { OAuthClientConfig } from "./config.ts";
import { providerFailure, unexpectedAnswer, type HttpClient, type ProviderAnswer, type ProviderName } from "./http-client.ts";
import { field, stringField } from "./json.ts";

/** Shared by the Google and Outlook connectors: read the token owner's profile, refreshing the access token once if needed. */

export interface ProfileSource {
  provider: ProviderName;
  profileUrl: string;
  client: OAuthClientConfig;
  /** Extra form fields the token endpoint wants on a refresh (Microsoft: scope). */
  refreshForm?: Record<string, string>;
  /** Provider-specific reading of an error answer, consulted before the shared status table. */
  errorKind?: (answer: ProviderAnswer) => ErrorKind | undefined;
}

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
}

export interface RefreshedToken {
  accessToken: string;
  /** Microsoft rotates refresh tokens: the newest one must replace the stored one. */
  refreshToken: string | undefined;
  expiresAt: Date | undefined;
  /** The scopes the token endpoint says the new access token carries (space-separated `scope`, RFC 6749 §5.1); empty when it did not say. */
  scopes: string[];
}

export interface Profile {
  /** The profile endpoint's JSON, still to be checked by the connector. */
  body: unknown;
  /** Set when the access token had to be refreshed. */
  refreshed: RefreshedToken | undefined;
}

type Call = Pick<ConnectorInput, "signal" | "deadline" | "log">;

/** What a refresh needs of a provider: its token endpoint, client and extra form fields. */
export type TokenSource = Pick<ProfileSource, "provider" | "client" | "refreshForm">;

/**
 * What a token endpoint's error code (RFC 6749 §5.2) means for the caller. invalid_client
 * and unauthorized_client say this server's OAuth client cannot refresh these tokens: as
 * with no client configured, the caller's way out is a valid access token.
 */
const tokenErrorKinds: Partial<Record<string, ErrorKind>> = {
  invalid_grant: "invalid_credentials", // the refresh token is expired, revoked or not ours
  invalid_scope: "insufficient_permissions",
  invalid_client: "invalid_request",
  unauthorized_client: "invalid_request",
};

/**
 * Both providers answer 401 to an expired or revoked access token, and a request carries
 * no expiry, so a 401 is the cue to refresh once and retry with the new token.
 */
export async function readProfile(http: HttpClient, source: ProfileSource, tokens: OAuthTokens, call: Call): Promise<Profile> {
  const { signal, deadline, log } = call;
  const profileCall = { provider: source.provider, url: source.profileUrl, signal, deadline, log };
  const first = await http.request({ ...profileCall, accessToken: tokens.accessToken });
  if (first.status !== 401) return { body: successBody(first, source), refreshed: undefined };

  log.info({ provider: source.provider }, "access token rejected; refreshing it");
  const refreshed = await refreshAccessToken(http, source, tokens.refreshToken, call);
  const retry = await http.request({ ...profileCall, accessToken: refreshed.accessToken });
  return { body: successBody(retry, source), refreshed };
}

/** The connector's result: the identity plus, after a refresh, the secrets to store instead of the request's. */
export function oauthResult(identity: ProviderIdentity, refreshed: RefreshedToken | undefined): ConnectorResult {
  if (!refreshed) return { identity };
  return {
    identity,
    updatedSecrets: {
      accessToken: refreshed.accessToken,
      ...(refreshed.refreshToken ? { refreshToken: refreshed.refreshToken } : {}),
    },
    accessTokenExpiresAt: refreshed.expiresAt,
  };
}

function successBody(answer: ProviderAnswer, source: ProfileSource): unknown {
  if (isSuccess(answer)) return answer.body;
  throw providerFailure(answer, source.errorKind?.(answer));
}

function isSuccess(answer: ProviderAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/**
 * One refresh_token grant at the provider's token endpoint. Used on a 401 above, and by
 * GetCredentials (domain/credentials) before an access token expires. A refusal throws the
 * token error's kind (invalid_grant: invalid_credentials); an outage provider_error with Retry-After.
 */
export async function refreshAccessToken(http: HttpClient, source: TokenSource, refreshToken: string, call: Call): Promise<RefreshedToken> {
  const { provider, client } = source;
  if (!client.clientId || !client.clientSecret) {
    throw new AppError("invalid_request", {
      detail: "The access token is expired and this server has no OAuth client configured to refresh it: send a valid access token.",
      metadata: { provider },
    });
  }
  const answer = await http.request({
    provider,
    url: client.tokenUrl,
    form: {
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...source.refreshForm,
    },
    signal: call.signal,
    deadline: call.deadline,
    log: call.log,
  });
  if (!isSuccess(answer)) {
    const code = field(answer.body, "error");
    const failure = providerFailure(answer, typeof code === "string" ? tokenErrorKinds[code] : undefined);
    // Worth an operator's look: this server's client id or secret is wrong.
    if (code === "invalid_client") call.log.warn({ provider }, "the token endpoint refused this server's OAuth client");
    throw failure;
  }

  const accessToken = stringField(answer.body, "access_token");
  if (!accessToken) throw unexpectedAnswer(provider, "to a refresh has no access_token");
  // Seconds (RFC 6749 §5.1); some Microsoft endpoints send the number as a string.
  const expiresIn = Number(field(answer.body, "expires_in"));
  const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : undefined;
  call.log.info({ provider, expiresAt }, "access token refreshed");
  const scopes = stringField(answer.body, "scope")?.split(" ").filter(Boolean) ?? [];
  return { accessToken, refreshToken: stringField(answer.body, "refresh_token"), expiresAt, scopes };
}
