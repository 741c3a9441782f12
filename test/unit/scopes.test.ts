import { readdirSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ALL_SCOPES, DEFAULT_SCOPES, methodPath, parseScopes, requireScope, scopeFor } from "../../src/auth/scopes.ts";
import { AppError } from "../../src/errors/app-error.ts";

/**
 * The API's own package: every service this server serves is generated here (AccountService
 * now; the event, webhook and credential services as they come). gen/postpress/gateway is
 * the contract of the gateways this service calls, which it never serves.
 */
const GEN = fileURLToPath(new URL("../../gen/postpress/accounts", import.meta.url));

/** Every service generated from proto/postpress/accounts. */
async function generatedServices(): Promise<DescService[]> {
  const files = readdirSync(GEN, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("_pb.js"));
  const services: DescService[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(GEN, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "service") services.push(value as DescService);
    }
  }
  return services;
}

function refusal(fn: () => void): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("not refused");
}

describe("the method → scope table", () => {
  it("gives every method of every service a scope (a new RPC must be mapped before any key can call it)", async () => {
    const services = await generatedServices();
    expect(services.map((s) => s.typeName)).toContain(AccountService.typeName);
    const unmapped = services.flatMap((s) => s.methods).filter((m) => scopeFor(m) === undefined).map(methodPath);
    expect(unmapped).toEqual([]);
  });

  it("writes need accounts:write, reads accounts:read", () => {
    const m = AccountService.method;
    for (const write of [m.connectAccount, m.solveCheckpoint, m.resendCheckpoint, m.cancelCheckpoint, m.deleteAccount]) expect(scopeFor(write), write.name).toBe("accounts:write");
    for (const read of [m.getAccount, m.listAccounts, m.watchAccount]) expect(scopeFor(read), read.name).toBe("accounts:read");
  });

  it("refuses an unmapped method to a key holding every scope (fail closed)", () => {
    const e = refusal(() => requireScope({ name: "Unmapped", parent: { typeName: AccountService.typeName } }, new Set(ALL_SCOPES)));
    expect(e.kind).toBe("scope_required");
    expect(e.metadata.method).toBe("postpress.accounts.v1.AccountService/Unmapped");
  });

  it("names the missing scope in metadata and message", () => {
    const e = refusal(() => requireScope(AccountService.method.connectAccount, new Set(["accounts:read"])));
    expect(e.kind).toBe("scope_required");
    expect(e.metadata.scope).toBe("accounts:write");
    expect(e.message).toContain("accounts:write");
    expect(() => requireScope(AccountService.method.connectAccount, new Set(["accounts:write"]))).not.toThrow();
  });
});

describe("scope names", () => {
  it("the default is every scope but credentials:read", () => {
    expect([...DEFAULT_SCOPES]).toEqual(["accounts:read", "accounts:write", "events:read", "webhooks:write"]);
  });

  it("defines the scopes of the services to come, so keys can carry them", () => {
    expect(ALL_SCOPES).toEqual(["accounts:read", "accounts:write", "credentials:read", "events:read", "webhooks:write"]);
  });

  it("accounts:* is read and write; duplicates collapse; an unknown name is refused by name", () => {
    expect(parseScopes(["accounts:*"])).toEqual(["accounts:read", "accounts:write"]);
    expect(parseScopes(["credentials:read", "accounts:read", "accounts:read"])).toEqual(["accounts:read", "credentials:read"]);
    expect(() => parseScopes(["accounts:admin"])).toThrow(/unknown scope "accounts:admin"/);
  });
});
