/**
 * Where the OAuth connectors reach Google and Microsoft, and with which OAuth clients. The
 * values come from the configuration (src/config.ts: GOOGLE_*, MICROSOFT_*, OAUTH_*).
 */

export interface OAuthClientConfig {
  /** The provider's OAuth 2.0 token endpoint, used to refresh access tokens. */
  tokenUrl: string;
  /** This server's OAuth client. Without both, expired access tokens cannot be refreshed. */
  clientId: string | undefined;
  clientSecret: string | undefined;
}

export interface OAuthConfig {
  google: OAuthClientConfig & {
    /** Base of the Gmail API, without a trailing slash; the profile is read at {apiBaseUrl}/gmail/v1/users/me/profile. */
    apiBaseUrl: string;
  };
  microsoft: OAuthClientConfig & {
    /** Base of Microsoft Graph, without a trailing slash; the profile is read at {graphBaseUrl}/v1.0/me. */
    graphBaseUrl: string;
  };
  /** Longest wait for one provider call, further capped by the request's deadline. */
  requestTimeoutMs: number;
  /** Larger answers are refused: an identity lookup never needs more. */
  maxResponseBytes: number;
}
