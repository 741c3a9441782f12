import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { kindForStatus, parseRetryAfter } from "../../src/domain/connectors/oauth/http-client.ts";

describe("OAuth configuration (GOOGLE_*, MICROSOFT_*, OAUTH_*)", () => {
  it("defaults to the public endpoints and no OAuth clients", () => {
    expect(loadConfig({}).oauth).toEqual({
      google: { apiBaseUrl: "https://gmail.googleapis.com", tokenUrl: "https://oauth2.googleapis.com/token", clientId: undefined, clientSecret: undefined },
      microsoft: {
        graphBaseUrl: "https://graph.microsoft.com",
        tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        clientId: undefined,
        clientSecret: undefined,
      },
      requestTimeoutMs: 10_000,
      maxResponseBytes: 1024 * 1024,
    });
  });

  it("reads every setting, treats empty as unset and drops a base URL's trailing slash", () => {
    const config = loadConfig({
      GOOGLE_API_BASE_URL: "http://127.0.0.1:8080/google/",
      GOOGLE_TOKEN_URL: "http://127.0.0.1:8080/token",
      GOOGLE_CLIENT_ID: "gid",
      GOOGLE_CLIENT_SECRET: "gsecret",
      MICROSOFT_GRAPH_BASE_URL: "http://127.0.0.1:8081",
      MICROSOFT_TOKEN_URL: "http://127.0.0.1:8081/tenant/oauth2/v2.0/token",
      MICROSOFT_CLIENT_ID: "",
      MICROSOFT_CLIENT_SECRET: " ",
    }).oauth;
    expect(config.google).toEqual({ apiBaseUrl: "http://127.0.0.1:8080/google", tokenUrl: "http://127.0.0.1:8080/token", clientId: "gid", clientSecret: "gsecret" });
    expect(config.microsoft).toEqual({
      graphBaseUrl: "http://127.0.0.1:8081",
      tokenUrl: "http://127.0.0.1:8081/tenant/oauth2/v2.0/token",
      clientId: undefined,
      clientSecret: undefined,
    });
  });

  it("fails at startup on a URL that is not http(s), without echoing it", () => {
    expect(() => loadConfig({ GOOGLE_TOKEN_URL: "not a url" })).toThrow(/GOOGLE_TOKEN_URL must be an http\(s\) URL \(the value is not a valid URL\)$/);
    let message = "";
    try {
      loadConfig({ MICROSOFT_GRAPH_BASE_URL: "ftp://user:pw@example.com" });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/MICROSOFT_GRAPH_BASE_URL must be an http\(s\) URL \(the URL's scheme is not https or http\)$/);
    expect(message).not.toContain("pw");
  });

  it("a client id needs its secret and the other way round", () => {
    expect(() => loadConfig({ MICROSOFT_CLIENT_ID: "mid" })).toThrow(/MICROSOFT_CLIENT_SECRET is missing/);
    expect(() => loadConfig({ GOOGLE_CLIENT_SECRET: "gsecret" })).toThrow(/GOOGLE_CLIENT_ID is missing/);
  });
});

describe("provider status table", () => {
  it.each([
    [400, "malformed_request"],
    [401, "invalid_credentials"],
    [403, "insufficient_permissions"],
    [404, "malformed_request"],
    [408, "request_timeout"],
    [429, "provider_error"],
    [500, "provider_error"],
    [503, "provider_error"],
    [302, "provider_error"],
  ] as const)("HTTP %i → %s", (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-06-01T10:00:00Z");
  it.each([
    ["120", 120_000],
    [" 0 ", 0],
    ["Sun, 01 Jun 2025 10:00:30 GMT", 30_000],
    ["Sun, 01 Jun 2025 09:00:00 GMT", 0],
    ["soon", undefined],
    ["-5", undefined],
    [null, undefined],
  ] as const)("%j → %j ms", (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });
});
