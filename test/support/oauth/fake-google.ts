import { bearer, startFakeHttp, type FakeAnswer, type FakeHttp } from "./fake-http.ts";
import { createTokenBook, type Tokens } from "./token-book.ts";

/**
 * Google as the Gmail connector sees it: the Gmail API profile and the OAuth 2.0 token
 * endpoint, answering with the status codes and error bodies Google documents.
 */

export const googleClient = { id: "1234567890-fake.apps.googleusercontent.com", secret: "GOCSPX-fake-client-secret" };

const gmailScope = "https://www.googleapis.com/auth/gmail.readonly";

/** Google's documented error answers, for tests to script. */
export const googleAnswers = {
  unauthenticated: {
    status: 401,
    headers: { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    json: {
      error: {
        code: 401,
        message:
          "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        errors: [{ message: "Invalid Credentials", domain: "global", reason: "authError", location: "Authorization", locationType: "header" }],
        status: "UNAUTHENTICATED",
      },
    },
  },
  insufficientScope: {
    status: 403,
    headers: { "www-authenticate": `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${gmailScope}"` },
    json: {
      error: {
        code: 403,
        message: "Request had insufficient authentication scopes.",
        errors: [{ message: "Insufficient Permission", domain: "global", reason: "insufficientPermissions" }],
        status: "PERMISSION_DENIED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            domain: "googleapis.com",
            metadata: { service: "gmail.googleapis.com", method: "caribou.api.proto.MailboxService.GetProfile" },
          },
        ],
      },
    },
  },
  userRateLimitExceeded: {
    status: 403,
    json: {
      error: {
        code: 403,
        message: "User Rate Limit Exceeded",
        errors: [{ message: "User Rate Limit Exceeded", domain: "usageLimits", reason: "userRateLimitExceeded" }],
        status: "PERMISSION_DENIED",
      },
    },
  },
  tooManyRequests: (retryAfter: string): FakeAnswer => ({
    status: 429,
    headers: { "retry-after": retryAfter },
    json: {
      error: {
        code: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        errors: [{ message: "Resource has been exhausted (e.g. check quota).", domain: "global", reason: "rateLimitExceeded" }],
        status: "RESOURCE_EXHAUSTED",
      },
    },
  }),
  backendError: {
    status: 500,
    json: { error: { code: 500, message: "Backend Error", errors: [{ message: "Backend Error", domain: "global", reason: "backendError" }], status: "INTERNAL" } },
  },
  invalidGrant: { status: 400, json: { error: "invalid_grant", error_description: "Token has been expired or revoked." } },
  invalidClient: { status: 401, json: { error: "invalid_client", error_description: "The OAuth client was not found." } },
  unsupportedGrantType: { status: 400, json: { error: "unsupported_grant_type", error_description: "Invalid grant_type: " } },
} satisfies Record<string, FakeAnswer | ((...args: string[]) => FakeAnswer)>;

interface GoogleUser {
  email: string;
  gmailScope: boolean;
}

export interface FakeGoogle extends FakeHttp<"profile" | "token"> {
  /** GOOGLE_* settings pointing at this fake, with its OAuth client. */
  env: Record<string, string>;
  /** A Gmail mailbox: returns a valid access token and a refresh token for it. Without gmailScope the tokens lack the Gmail scope. */
  addUser(email: string, options?: { gmailScope?: boolean }): Tokens;
  expire(accessToken: string): void;
  revoke(refreshToken: string): void;
  /** Every token this fake minted, and its client secret: none may ever show in an error or a log line. */
  secrets(): string[];
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const tokens = createTokenBook<GoogleUser>({ access: "ya29.a0fake", refresh: "1//0gfake" });
  const http = await startFakeHttp({
    profile: {
      method: "GET",
      path: "/gmail/v1/users/me/profile",
      answer(request) {
        const user = tokens.ownerOfAccess(bearer(request.headers.authorization));
        if (!user) return googleAnswers.unauthenticated;
        if (!user.gmailScope) return googleAnswers.insufficientScope;
        return { status: 200, json: { emailAddress: user.email, messagesTotal: 1742, threadsTotal: 811, historyId: "2473391" } };
      },
    },
    token: {
      method: "POST",
      path: "/token",
      answer({ form }) {
        if (form.grant_type !== "refresh_token") return googleAnswers.unsupportedGrantType;
        if (form.client_id !== googleClient.id || form.client_secret !== googleClient.secret) return googleAnswers.invalidClient;
        const refreshed = tokens.refresh(form.refresh_token ?? "", false);
        if (!refreshed) return googleAnswers.invalidGrant;
        return { status: 200, json: { access_token: refreshed.accessToken, expires_in: 3599, scope: gmailScope, token_type: "Bearer" } };
      },
    },
  });
  return {
    ...http,
    env: {
      GOOGLE_API_BASE_URL: http.url,
      GOOGLE_TOKEN_URL: `${http.url}/token`,
      GOOGLE_CLIENT_ID: googleClient.id,
      GOOGLE_CLIENT_SECRET: googleClient.secret,
    },
    addUser: (email, options = {}) => tokens.issue({ email, gmailScope: options.gmailScope ?? true }),
    expire: tokens.expire,
    revoke: tokens.revoke,
    secrets: () => [...tokens.minted(), googleClient.secret],
  };
}
