import { create } from "@bufbuild/protobuf";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GoogleOauthAuthSchema, OutlookAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { ConnectorResult } from "../../src/domain/connectors/connector.ts";
import { createGoogleConnector } from "../../src/domain/connectors/google/google-connector.ts";
import { loadConfig } from "../../src/config.ts";
import type { OAuthConfig } from "../../src/domain/connectors/oauth/config.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import { googleAnswers, googleClient, startFakeGoogle } from "../support/oauth/fake-google.ts";
import type { FakeAnswer, FakeHttp } from "../support/oauth/fake-http.ts";
import { microsoftAnswers, microsoftClient, startFakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import { watchForLeaks, type RequestContext } from "../support/oauth/harness.ts";
import type { Tokens } from "../support/oauth/token-book.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { marginMs } from "../../src/domain/deadline.ts";

/** What both OAuth connectors share (the HTTP client and the refresh-and-retry), run against each provider's fake. */

interface Subject {
  fake: FakeHttp<string> & { env: Record<string, string>; secrets(): string[]; expire(accessToken: string): void; revoke(refreshToken: string): void };
  profileRoute: string;
  clientId: string;
  clientSecret: string;
  tooManyRequests(retryAfter: string): FakeAnswer;
  serverError: FakeAnswer;
  unauthenticated: FakeAnswer;
  /** A valid pair of tokens for a new account at the fake. */
  newAccount(): Tokens;
  connect(config: OAuthConfig, tokens: Tokens, context: RequestContext): Promise<ConnectorResult>;
}

const subjects: Record<"google" | "microsoft", () => Promise<Subject>> = {
  async google() {
    const fake = await startFakeGoogle();
    let n = 0;
    return {
      fake,
      profileRoute: "profile",
      clientId: googleClient.id,
      clientSecret: googleClient.secret,
      tooManyRequests: googleAnswers.tooManyRequests,
      serverError: googleAnswers.backendError,
      unauthenticated: googleAnswers.unauthenticated,
      newAccount: () => fake.addUser(`user${++n}@example.com`),
      connect: (config, tokens, context) => createGoogleConnector(config, loopbackGuard).connect({ variant: create(GoogleOauthAuthSchema, tokens), ...context }),
    };
  },
  async microsoft() {
    const fake = await startFakeMicrosoft();
    const users = new Map<string, { id: string; username: string }>();
    let n = 0;
    return {
      fake,
      profileRoute: "me",
      clientId: microsoftClient.id,
      clientSecret: microsoftClient.secret,
      tooManyRequests: microsoftAnswers.tooManyRequests,
      serverError: microsoftAnswers.serviceUnavailable,
      unauthenticated: microsoftAnswers.invalidAuthenticationToken,
      newAccount() {
        const user = { id: `0000000${++n}-1111-2222-3333-444444444444`, username: `user${n}@contoso.com` };
        const tokens = fake.addUser({ id: user.id, displayName: `User ${n}`, mail: user.username, userPrincipalName: user.username });
        users.set(tokens.refreshToken, user);
        return tokens;
      },
      connect(config, tokens, context) {
        const variant = create(OutlookAuthSchema, { ...tokens, ...users.get(tokens.refreshToken) });
        return createOutlookConnector(config, loopbackGuard).connect({ variant, ...context });
      },
    };
  },
};

describe.each(["google", "microsoft"] as const)("OAuth transport with %s", (name) => {
  let subject: Subject;
  let config: OAuthConfig;
  const watch = watchForLeaks();

  beforeAll(async () => {
    subject = await subjects[name]();
    config = loadConfig(subject.fake.env).oauth;
  });
  afterAll(() => subject.fake.close());
  afterEach(() => {
    expect(watch.leaked(subject.fake.secrets())).toEqual([]);
    subject.fake.reset();
  });

  it("refreshes an expired access token, retries once and returns the new token with its expiry", async () => {
    const tokens = subject.newAccount();
    subject.fake.expire(tokens.accessToken);
    const { context, lines } = watch.request();

    const result = await subject.connect(config, tokens, context);

    const newToken = result.updatedSecrets?.accessToken;
    expect(newToken).toBeDefined();
    expect(newToken).not.toBe(tokens.accessToken);
    expect(result.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(result.accessTokenExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 3_599_000);
    const profileCalls = subject.fake.requestsTo(subject.profileRoute);
    expect(profileCalls.map((r) => r.headers.authorization)).toEqual([`Bearer ${tokens.accessToken}`, `Bearer ${newToken}`]);
    // The refresh is an application/x-www-form-urlencoded POST carrying the client and the refresh token.
    const [refresh, ...more] = subject.fake.requestsTo("token");
    expect(more).toEqual([]);
    expect(refresh!.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(refresh!.form).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: tokens.refreshToken,
      client_id: subject.clientId,
      client_secret: subject.clientSecret,
    });
    expect(lines.join("\n")).toContain("access token refreshed");
  });

  it("does not refresh a valid access token", async () => {
    const { context } = watch.request();
    const result = await subject.connect(config, subject.newAccount(), context);
    expect(result.updatedSecrets).toBeUndefined();
    expect(subject.fake.requestsTo("token")).toEqual([]);
  });

  it("answers invalid_credentials when the refresh token is revoked (invalid_grant)", async () => {
    const tokens = subject.newAccount();
    subject.fake.expire(tokens.accessToken);
    subject.fake.revoke(tokens.refreshToken);
    const { context } = watch.request();

    const error = await watch.failure(subject.connect(config, tokens, context), context);

    expect(error.kind).toBe("invalid_credentials");
    expect(error.metadata).toMatchObject({ provider: name, status: "400", providerReason: "invalid_grant" });
    expect(subject.fake.requestsTo(subject.profileRoute)).toHaveLength(1);
  });

  it("answers invalid_credentials when even the refreshed token is rejected, without a second refresh", async () => {
    const tokens = subject.newAccount();
    subject.fake.script(subject.profileRoute, subject.unauthenticated, subject.unauthenticated);
    const { context } = watch.request();

    const error = await watch.failure(subject.connect(config, tokens, context), context);

    expect(error.kind).toBe("invalid_credentials");
    expect(error.metadata.status).toBe("401");
    expect(subject.fake.requestsTo(subject.profileRoute)).toHaveLength(2);
    expect(subject.fake.requestsTo("token")).toHaveLength(1);
  });

  it("answers a retryable provider_error with retryAfterMs when throttled (429, Retry-After in seconds)", async () => {
    subject.fake.script(subject.profileRoute, subject.tooManyRequests("7"));
    const { context } = watch.request();

    const error = await watch.failure(subject.connect(config, subject.newAccount(), context), context);

    expect(error.kind).toBe("provider_error");
    expect(error.entry.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.metadata).toMatchObject({ provider: name, status: "429" });
  });

  it("reads a Retry-After given as an HTTP date, also on the token endpoint", async () => {
    const tokens = subject.newAccount();
    subject.fake.expire(tokens.accessToken);
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    subject.fake.script("token", subject.tooManyRequests(inAMinute));
    const { context } = watch.request();

    const error = await watch.failure(subject.connect(config, tokens, context), context);

    expect(error.kind).toBe("provider_error");
    expect(error.metadata.status).toBe("429");
    // HTTP dates have one-second precision.
    expect(error.retryAfterMs).toBeGreaterThan(58_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("answers provider_error on a 5xx, with retryAfterMs when the provider gave one", async () => {
    subject.fake.script(subject.profileRoute, subject.serverError, { ...subject.serverError, headers: { "retry-after": "30" } });
    const first = watch.request().context;
    const plain = await watch.failure(subject.connect(config, subject.newAccount(), first), first);
    const second = watch.request().context;
    const withDelay = await watch.failure(subject.connect(config, subject.newAccount(), second), second);

    expect(plain.kind).toBe("provider_error");
    expect(plain.metadata.status).toBe(String(subject.serverError.status));
    expect(plain.retryAfterMs).toBeUndefined();
    expect(withDelay.kind).toBe("provider_error");
    expect(withDelay.retryAfterMs).toBe(30_000);
  });

  it("answers request_timeout before the caller's deadline when the provider is slow", async () => {
    subject.fake.script(subject.profileRoute, { status: 200, json: {}, delayMs: 5_000 });
    const { context } = watch.request({ timeoutMs: 600 });
    const started = Date.now();
    // "Before the deadline" as an order of events, not a wall-clock race: the caller's own
    // signal aborts at the deadline, so the connector answered first if, when its failure
    // settled, that signal had not fired yet. (On a loaded machine both timers can run late
    // together; the earlier one still runs first.)
    let callerGaveUpFirst: boolean | undefined;
    const attempt = subject.connect(config, subject.newAccount(), context);
    attempt.catch(() => (callerGaveUpFirst ??= context.signal.aborted));

    const error = await watch.failure(attempt, context);

    expect(error.kind).toBe("request_timeout");
    expect(callerGaveUpFirst).toBe(false);
    // Not absurdly early either: it used the time the one deadline rule leaves it (less a little
    // for the time between making the deadline and reading the clock).
    expect(Date.now() - started).toBeGreaterThanOrEqual(600 - marginMs(600) - 50);
  });

  it("answers request_timeout after requestTimeoutMs even when the deadline is far", async () => {
    subject.fake.script(subject.profileRoute, { status: 200, json: {}, delayMs: 5_000 });
    const { context } = watch.request({ timeoutMs: 10_000 });
    const started = Date.now();

    const error = await watch.failure(subject.connect({ ...config, requestTimeoutMs: 300 }, subject.newAccount(), context), context);

    expect(error.kind).toBe("request_timeout");
    // Before the fake answered (5 s): our own timeout ended it.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("answers request_canceled when the caller cancels", async () => {
    subject.fake.script(subject.profileRoute, { status: 200, json: {}, delayMs: 5_000 });
    const caller = new AbortController();
    const { context } = watch.request({ signal: caller.signal });
    setTimeout(() => caller.abort(), 100);

    const error = await watch.failure(subject.connect(config, subject.newAccount(), context), context);

    expect(error.kind).toBe("request_canceled");
  });

  it("refuses an answer larger than maxResponseBytes, declared or streamed", async () => {
    const limit = config.maxResponseBytes;
    subject.fake.script(subject.profileRoute, { status: 200, text: "x".repeat(limit + 1) }, { status: 200, streamBytes: 50 * limit });
    for (let i = 0; i < 2; i++) {
      const { context } = watch.request();
      const error = await watch.failure(subject.connect(config, subject.newAccount(), context), context);
      expect(error.kind).toBe("provider_error");
      expect(error.metadata.cause).toBe("response_too_large");
    }
  });

  it("answers provider_error when a success is not JSON, and keeps the status of a non-JSON error", async () => {
    subject.fake.script(subject.profileRoute, { status: 200, text: '{"id": "trunc' }, { status: 502, text: "<html><body>Bad Gateway</body></html>" });
    const first = watch.request().context;
    const unparseable = await watch.failure(subject.connect(config, subject.newAccount(), first), first);
    const second = watch.request().context;
    const badGateway = await watch.failure(subject.connect(config, subject.newAccount(), second), second);

    expect(unparseable.kind).toBe("provider_error");
    expect(unparseable.metadata.cause).toBe("unparseable_response");
    expect(badGateway.kind).toBe("provider_error");
    expect(badGateway.metadata.status).toBe("502");
  });

  it("answers provider_error when a success lacks the identity", async () => {
    subject.fake.script(subject.profileRoute, { status: 200, json: { unrelated: true } });
    const { context } = watch.request();
    const error = await watch.failure(subject.connect(config, subject.newAccount(), context), context);
    expect(error.kind).toBe("provider_error");
    expect(error.metadata.cause).toBe("unexpected_response");
  });

  it("answers provider_error (unreachable) when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = `http://127.0.0.1:${port}`;
    const { context } = watch.request();

    const unreachable = { ...config, google: { ...config.google, apiBaseUrl: nowhere }, microsoft: { ...config.microsoft, graphBaseUrl: nowhere } };
    const error = await watch.failure(subject.connect(unreachable, subject.newAccount(), context), context);

    expect(error.kind).toBe("provider_error");
    expect(error.metadata.cause).toBe("unreachable");
  });

  it("connects with a valid access token but cannot refresh without an OAuth client configured", async () => {
    const withoutClient = loadConfig(Object.fromEntries(Object.entries(subject.fake.env).filter(([key]) => !/CLIENT/.test(key)))).oauth;
    const valid = watch.request().context;
    await expect(subject.connect(withoutClient, subject.newAccount(), valid)).resolves.toBeDefined();

    const tokens = subject.newAccount();
    subject.fake.expire(tokens.accessToken);
    const { context } = watch.request();
    const error = await watch.failure(subject.connect(withoutClient, tokens, context), context);

    expect(error.kind).toBe("invalid_request");
    expect(error.message).toContain("no OAuth client configured");
    expect(subject.fake.requestsTo("token")).toEqual([]);
  });

  it("answers invalid_request, and warns the operator, when the provider refuses this server's OAuth client", async () => {
    const tokens = subject.newAccount();
    subject.fake.expire(tokens.accessToken);
    const wrongSecret = { ...config, google: { ...config.google, clientSecret: "wrong" }, microsoft: { ...config.microsoft, clientSecret: "wrong" } };
    const { context, lines } = watch.request();

    const error = await watch.failure(subject.connect(wrongSecret, tokens, context), context);

    expect(error.kind).toBe("invalid_request");
    expect(error.metadata.providerReason).toBe("invalid_client");
    expect(lines.some((line) => line.includes("refused this server's OAuth client") && JSON.parse(line).level === 40)).toBe(true);
  });
});
