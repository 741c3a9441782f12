import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GoogleOauthAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createGoogleConnector } from "../../src/domain/connectors/google/google-connector.ts";
import { loadConfig } from "../../src/config.ts";
import { googleAnswers, startFakeGoogle, type FakeGoogle } from "../support/oauth/fake-google.ts";
import { watchForLeaks, type RequestContext } from "../support/oauth/harness.ts";
import type { Tokens } from "../support/oauth/token-book.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";

describe("Gmail (Google OAuth) connector", () => {
  let google: FakeGoogle;
  let connect: (tokens: Tokens, context: RequestContext) => ReturnType<ReturnType<typeof createGoogleConnector>["connect"]>;
  const watch = watchForLeaks();

  beforeAll(async () => {
    google = await startFakeGoogle();
    const connector = createGoogleConnector(loadConfig(google.env).oauth, loopbackGuard);
    connect = (tokens, context) => connector.connect({ variant: create(GoogleOauthAuthSchema, tokens), ...context });
  });
  afterAll(() => google.close());
  afterEach(() => {
    expect(watch.leaked(google.secrets())).toEqual([]);
    google.reset();
  });

  it("takes the Gmail profile's address as the identity, lowercased for providerUserId", async () => {
    const tokens = google.addUser("Anna.Smith@Example.com");
    const { context } = watch.request();

    const result = await connect(tokens, context);

    expect(result).toEqual({ identity: { providerUserId: "anna.smith@example.com", email: "Anna.Smith@Example.com" } });
    const [profile] = google.requestsTo("profile");
    expect(profile!.method).toBe("GET");
    expect(profile!.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
  });

  it("keeps the refresh token Google does not rotate, and updates only the access token", async () => {
    const tokens = google.addUser("bob@example.com");
    google.expire(tokens.accessToken);
    const { context } = watch.request();

    const result = await connect(tokens, context);

    expect(result.identity.email).toBe("bob@example.com");
    expect(Object.keys(result.updatedSecrets ?? {})).toEqual(["accessToken"]);
    // The refreshed token really is one Google accepts.
    await expect(connect({ ...tokens, accessToken: result.updatedSecrets!.accessToken! }, watch.request().context)).resolves.toMatchObject({
      identity: { email: "bob@example.com" },
    });
  });

  it("answers insufficient_permissions for a token without the Gmail scope, without trying a refresh", async () => {
    const tokens = google.addUser("carol@example.com", { gmailScope: false });
    const { context } = watch.request();

    const error = await watch.failure(connect(tokens, context), context);

    expect(error.kind).toBe("insufficient_permissions");
    expect(error.entry.retryable).toBe(false);
    expect(error.metadata).toMatchObject({ provider: "google", status: "403", providerReason: "PERMISSION_DENIED" });
    expect(google.requestsTo("token")).toEqual([]);
  });

  it("answers insufficient_permissions when only the ErrorInfo reason names the missing scope", async () => {
    const body = structuredClone(googleAnswers.insufficientScope.json);
    body.error.errors = [];
    google.script("profile", { status: 403, json: body });
    const { context } = watch.request();

    const error = await watch.failure(connect(google.addUser("dan@example.com"), context), context);

    expect(error.kind).toBe("insufficient_permissions");
  });

  it("treats Gmail's 403 userRateLimitExceeded as throttling (retryable provider_error), not as a permission problem", async () => {
    google.script("profile", googleAnswers.userRateLimitExceeded);
    const { context } = watch.request();

    const error = await watch.failure(connect(google.addUser("erin@example.com"), context), context);

    expect(error.kind).toBe("provider_error");
    expect(error.entry.retryable).toBe(true);
    expect(error.metadata.status).toBe("403");
  });
});
