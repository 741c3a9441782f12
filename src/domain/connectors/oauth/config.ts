/** Where the OAuth connectors reach Google and Microsoft, and with which OAuth clients. */

export interface OAuthClientConfig {
  /** The provider's OAuth 2.0 token endpoint, used to refresh access tokens. */
  tokenUrl: string;
  /** This server's OAuth client. Without both, expired access tokens cannot be refreshed. */
  clientId: string | undefined;
  clientSecret: string | undefined;
}

export interface OAuthConfig {
  google: OAuthClientConfig & {
    /** Base of the Gmail API; the profile is read at {apiBaseUrl}/gmail/v1/users/me/profile. */
    apiBaseUrl: string;
  };
  microsoft: OAuthClientConfig & {
    /** Base of Microsoft Graph; the profile is read at {graphBaseUrl}/v1.0/me. */
    graphBaseUrl: string;
  };
  /** Longest wait for one provider call, further capped by the request's deadline. */
  requestTimeoutMs: number;
  /** Larger answers are refused: an identity lookup never needs more. */
  maxResponseBytes: number;
}

export const oauthDefaults = {
  googleApiBaseUrl: "https://gmail.googleapis.com",
  googleTokenUrl: "https://oauth2.googleapis.com/token",
  microsoftGraphBaseUrl: "https://graph.microsoft.com",
  microsoftTokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
  requestTimeoutMs: 10_000,
  maxResponseBytes: 1024 * 1024,
} as const;

/**
 * Reads GOOGLE_API_BASE_URL, GOOGLE_TOKEN_URL, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET,
 * MICROSOFT_GRAPH_BASE_URL, MICROSOFT_TOKEN_URL, MICROSOFT_CLIENT_ID and
 * MICROSOFT_CLIENT_SECRET; unset or empty means the public endpoint / no client.
 * A malformed URL fails at startup rather than on the first connect.
 */
export function oauthConfigFromEnv(env: Record<string, string | undefined>): OAuthConfig {
  return {
    google: {
      apiBaseUrl: baseUrl(env, "GOOGLE_API_BASE_URL", oauthDefaults.googleApiBaseUrl),
      tokenUrl: httpUrl(env, "GOOGLE_TOKEN_URL", oauthDefaults.googleTokenUrl),
      clientId: setting(env, "GOOGLE_CLIENT_ID"),
      clientSecret: setting(env, "GOOGLE_CLIENT_SECRET"),
    },
    microsoft: {
      graphBaseUrl: baseUrl(env, "MICROSOFT_GRAPH_BASE_URL", oauthDefaults.microsoftGraphBaseUrl),
      tokenUrl: httpUrl(env, "MICROSOFT_TOKEN_URL", oauthDefaults.microsoftTokenUrl),
      clientId: setting(env, "MICROSOFT_CLIENT_ID"),
      clientSecret: setting(env, "MICROSOFT_CLIENT_SECRET"),
    },
    requestTimeoutMs: oauthDefaults.requestTimeoutMs,
    maxResponseBytes: oauthDefaults.maxResponseBytes,
  };
}

function setting(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function httpUrl(env: Record<string, string | undefined>, name: string, fallback: string): string {
  const value = setting(env, name) ?? fallback;
  // The value is not echoed: a URL may carry credentials.
  if (!URL.canParse(value)) throw new Error(`${name} is not a URL`);
  const { protocol } = new URL(value);
  if (protocol !== "https:" && protocol !== "http:") throw new Error(`${name} must be an http or https URL`);
  return value;
}

/** Paths are appended to a base, so a trailing slash would double. */
function baseUrl(env: Record<string, string | undefined>, name: string, fallback: string): string {
  return httpUrl(env, name, fallback).replace(/\/+$/, "");
}
