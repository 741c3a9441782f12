import { randomUUID } from "node:crypto";
import { bearer, startFakeHttp, type FakeAnswer, type FakeHttp } from "./fake-http.ts";
import { createTokenBook, type Tokens } from "./token-book.ts";

/**
 * Microsoft as the Outlook connector sees it: Graph's /me and the identity platform's
 * token endpoint, answering with the status codes and error bodies Microsoft documents.
 */

export const microsoftClient = { id: "00000000-0000-0000-0000-00000000fa4e", secret: "fake~client~secret" };

const tokenPath = "/common/oauth2/v2.0/token";

function graphError(status: number, code: string, message: string, headers?: Record<string, string>): FakeAnswer {
  const innerError = { date: "2025-06-01T10:00:00", "request-id": randomUUID(), "client-request-id": randomUUID() };
  return { status, ...(headers ? { headers } : {}), json: { error: { code, message, innerError } } };
}

function identityError(status: number, error: string, aadsts: number, description: string): FakeAnswer {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    status,
    json: {
      error,
      error_description: `AADSTS${aadsts}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: 2025-06-01 10:00:00Z`,
      error_codes: [aadsts],
      timestamp: "2025-06-01 10:00:00Z",
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
    },
  };
}

/** Microsoft's documented error answers, for tests to script. */
export const microsoftAnswers = {
  invalidAuthenticationToken: graphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.", {
    "www-authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  }),
  accessDenied: graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
  tooManyRequests: (retryAfter: string) => graphError(429, "TooManyRequests", "Too many requests.", { "retry-after": retryAfter }),
  serviceUnavailable: graphError(503, "serviceNotAvailable", "Service unavailable."),
  invalidGrant: identityError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed."),
  invalidClient: identityError(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."),
  missingScope: identityError(400, "invalid_request", 90014, "The required field 'scope' is missing from the credential."),
  unsupportedGrantType: identityError(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."),
};

export interface MicrosoftUser {
  /** Graph user id. */
  id: string;
  displayName: string;
  /** null for an account without an Exchange mailbox. */
  mail: string | null;
  userPrincipalName: string;
}

export interface FakeMicrosoft extends FakeHttp<"me" | "token"> {
  /** MICROSOFT_* settings pointing at this fake, with its OAuth client. */
  env: Record<string, string>;
  /** A Microsoft account: returns a valid access token and a refresh token for it. */
  addUser(user: MicrosoftUser): Tokens;
  expire(accessToken: string): void;
  revoke(refreshToken: string): void;
  /** Every token this fake minted, and its client secret: none may ever show in an error or a log line. */
  secrets(): string[];
}

export async function startFakeMicrosoft(): Promise<FakeMicrosoft> {
  const tokens = createTokenBook<MicrosoftUser>({ access: "eyJ0eXAiOiJKV1Qi.fake.", refresh: "M.C5fake_BAY." });
  const http = await startFakeHttp({
    me: {
      method: "GET",
      path: "/v1.0/me",
      answer(request) {
        const user = tokens.ownerOfAccess(bearer(request.headers.authorization));
        if (!user) return microsoftAnswers.invalidAuthenticationToken;
        return { status: 200, json: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", ...user } };
      },
    },
    token: {
      method: "POST",
      path: tokenPath,
      answer({ form }) {
        if (form.grant_type !== "refresh_token") return microsoftAnswers.unsupportedGrantType;
        if (form.client_id !== microsoftClient.id || form.client_secret !== microsoftClient.secret) return microsoftAnswers.invalidClient;
        if (!form.scope) return microsoftAnswers.missingScope;
        // The identity platform hands out a new refresh token with each refresh.
        const refreshed = tokens.refresh(form.refresh_token ?? "", true);
        if (!refreshed) return microsoftAnswers.invalidGrant;
        return {
          status: 200,
          json: {
            token_type: "Bearer",
            scope: "https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/User.Read",
            expires_in: 3599,
            ext_expires_in: 3599,
            access_token: refreshed.accessToken,
            refresh_token: refreshed.refreshToken,
          },
        };
      },
    },
  });
  return {
    ...http,
    env: {
      MICROSOFT_GRAPH_BASE_URL: http.url,
      MICROSOFT_TOKEN_URL: `${http.url}${tokenPath}`,
      MICROSOFT_CLIENT_ID: microsoftClient.id,
      MICROSOFT_CLIENT_SECRET: microsoftClient.secret,
    },
    addUser: (user) => tokens.issue(user),
    expire: tokens.expire,
    revoke: tokens.revoke,
    secrets: () => [...tokens.minted(), microsoftClient.secret],
  };
}
