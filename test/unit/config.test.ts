import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { configurationHelp } from "../../src/config/help.ts";
import { POSITIVE_MS, setting } from "../../src/config/setting.ts";
import { readTree, type Problem } from "../../src/config/tree.ts";

function problems(env: Record<string, string>): Problem[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("the configuration schema", () => {
  it("defaults: every value typed and nested, the same for tests and production", () => {
    const config = loadConfig({});
    expect(config.listen).toEqual({ host: "127.0.0.1", grpcPort: 50051, httpPort: 8080 });
    expect(config.store).toEqual({ dataDir: resolve("./data"), databaseUrl: undefined, connectTimeoutMs: 2000 });
    expect(config.production).toBe(false);
    expect(config.log).toEqual({ level: "info", format: "json" });
    expect(config.drainTimeoutMs).toBe(10_000);
    expect(config.intents).toEqual({ ttlMs: 120_000, pollMs: 15_000, sweepMs: 30_000, maxPending: 1_000 });
    expect(config.mail).toEqual({ extraCaPem: undefined, connectTimeoutMs: 15_000 });
    expect(config.sealing).toEqual({ keys: undefined, activeKey: undefined });
  });

  it("blank counts as unset (compose files pass NAME= through)", () => {
    expect(loadConfig({ GRPC_PORT: "", LOG_LEVEL: "  ", DATABASE_URL: "" })).toMatchObject({ listen: { grpcPort: 50051 }, log: { level: "info" }, store: { databaseUrl: undefined } });
  });

  it("API_KEY_CACHE_MS defaults to 5 s, takes 0 (no cache), refuses what isn't a whole number of ms", () => {
    expect(loadConfig({}).auth.apiKeyCacheMs).toBe(5_000);
    expect(loadConfig({ API_KEY_CACHE_MS: "0" }).auth.apiKeyCacheMs).toBe(0);
    expect(loadConfig({ API_KEY_CACHE_MS: "250" }).auth.apiKeyCacheMs).toBe(250);
    for (const bad of ["-1", "1.5", "soon", "1e3"]) expect(() => loadConfig({ API_KEY_CACHE_MS: bad })).toThrow(/API_KEY_CACHE_MS must be a non-negative integer/);
  });

  it("every refused value is named at once, with what it accepts", () => {
    expect(problems({ GRPC_PORT: "-1", DRAIN_TIMEOUT_MS: "0", LOG_FORMAT: "xml" })).toEqual([
      { variable: "GRPC_PORT", accepted: "a port number (0-65535; 0 picks a free one)", message: 'GRPC_PORT must be a port number (0-65535; 0 picks a free one), got "-1"' },
      { variable: "LOG_FORMAT", accepted: "one of json, pretty", message: 'LOG_FORMAT must be one of json, pretty, got "xml"' },
      { variable: "DRAIN_TIMEOUT_MS", accepted: "a positive whole number of milliseconds", message: 'DRAIN_TIMEOUT_MS must be a positive whole number of milliseconds, got "0"' },
    ]);
  });

  it("cross-field rules: distinct ports, OAuth client id and secret together, keys in production", () => {
    expect(problems({ GRPC_PORT: "9000", HTTP_PORT: "9000" }).map((p) => p.variable)).toEqual(["HTTP_PORT"]);
    expect(loadConfig({ GRPC_PORT: "0", HTTP_PORT: "0" }).listen).toMatchObject({ grpcPort: 0, httpPort: 0 });
    // The poll is only the engine's safety net (each tracked intent has its own expiry timer): it may exceed a short TTL.
    expect(loadConfig({ INTENT_TTL_MS: "1000" }).intents).toMatchObject({ ttlMs: 1_000, pollMs: 15_000 });
    expect(problems({ GOOGLE_CLIENT_ID: "id" })[0]?.variable).toBe("GOOGLE_CLIENT_SECRET");
    expect(problems({ NODE_ENV: "production" })[0]?.variable).toBe("SEALING_KEYS");
    expect(loadConfig({ NODE_ENV: "production", SEALING_KEYS: `k1:${randomBytes(32).toString("base64")}` }).production).toBe(true);
  });

  it("never echoes a secret's value: keys, URLs that may carry a password, client secrets", () => {
    const key = randomBytes(16).toString("base64"); // 16 bytes: refused, must not be shown
    const all = [
      ...problems({ SEALING_KEYS: `k1:${key}` }),
      ...problems({ DATABASE_URL: "postgres//admin:s3cr3t-pw@db" }),
      ...problems({ GOOGLE_TOKEN_URL: "ftp://u:s3cr3t-pw@h/" }),
      ...problems({ SEALING_ACTIVE_KEY: key }),
    ];
    expect(all.map((p) => p.variable)).toEqual(["SEALING_KEYS", "DATABASE_URL", "GOOGLE_TOKEN_URL", "SEALING_ACTIVE_KEY"]);
    expect(all[0]!.message).toContain('key "k1" decodes to 16 bytes');
    const text = JSON.stringify(all);
    expect(text).not.toContain(key);
    expect(text).not.toContain("s3cr3t-pw");
  });

  it("a new setting is one entry: typed value, default, error and --help line follow from it", () => {
    const tree = { example: { timeoutMs: setting({ env: "EXAMPLE_TIMEOUT_MS", default: "9464", doc: "an example", ...POSITIVE_MS }) } };
    const found: Problem[] = [];
    expect(readTree(tree, {}, found).example.timeoutMs).toBe(9464);
    readTree(tree, { EXAMPLE_TIMEOUT_MS: "x" }, found);
    expect(found[0]?.message).toBe('EXAMPLE_TIMEOUT_MS must be a positive whole number of milliseconds, got "x"');
    expect(configurationHelp(tree)).toBe("  EXAMPLE_TIMEOUT_MS (default: 9464)\n      an example\n      accepts a positive whole number of milliseconds");
  });
});
