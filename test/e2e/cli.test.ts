import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES, type Wire } from "../support/clients.ts";
import { runCli, runToExit, startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";

/** The admin CLI as a subprocess on the server's DATA_DIR: the keys it prints work, and revoking them takes effect within API_KEY_CACHE_MS. */

const KEY_FORMAT = /^ppa_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/;
const dataDir = tempDataDir();
const env = { DATA_DIR: dataDir };
/** The server trusts a key it has read for this long (default 5 s; shorter here to keep the test quick). */
const API_KEY_CACHE_MS = 1_000;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  const created = await runCli(["workspaces", "create", "acme"], env);
  expect(created.code, created.stderr).toBe(0);
});
afterAll(() => {
  service?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

let key = "";
let keyId = "";
/** An accounts:read + events:read key made with --scope. */
let reader = "";

describe("postpress-accounts CLI", () => {
  it("workspaces list shows the workspace", async () => {
    const r = await runCli(["workspaces", "list"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ws_[0-9A-Z]{26}\tacme\t/m);
  });

  it("keys create prints the key alone: exactly one line, in the key format", async () => {
    const r = await runCli(["keys", "create", "--workspace", "acme", "--label", "ci"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.endsWith("\n")).toBe(true);
    const lines = r.stdout.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(KEY_FORMAT);
    key = lines[0]!;
    keyId = `key_${key.split("_")[1]}`;
    expect(r.stderr).not.toContain(key);
  });

  it("keys list shows the key's id, label and scopes (by default all but credentials:read), never the key", async () => {
    const r = await runCli(["keys", "list", "--workspace", "acme"], env);
    expect(r.code).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith(keyId));
    expect(line).toBeDefined();
    expect(line).toContain("\tacme\t");
    expect(line).toContain("\tci\taccounts:read,accounts:write,events:read,webhooks:write\t");
    expect(line).toMatch(/\tactive$/);
    expect(r.stdout).not.toContain(key.slice("ppa_".length + 26 + 1));
  });

  it("the key works against a server on the same DATA_DIR, on every wire", async () => {
    service = await startServiceProcess({ dataDir, env: { API_KEY_CACHE_MS: String(API_KEY_CACHE_MS) } });
    // A store that already has a workspace gets no bootstrap key.
    expect(existsSync(join(dataDir, "api-key"))).toBe(false);
    for (const wire of WIRES) {
      const r = await callRpc(service, wire, AccountService.method.listAccounts, {}, { apiKey: key });
      expect(r.ok, wire).toBe(true);
    }
  });

  it("keys create --scope: the key has those scopes alone (keys list shows them) and the server refuses it the others, naming the scope", async () => {
    const created = await runCli(["keys", "create", "--workspace", "acme", "--label", "reader", "--scope", "accounts:read", "--scope", "events:read"], env);
    expect(created.code, created.stderr).toBe(0);
    reader = created.stdout.trim();
    expect(reader).toMatch(KEY_FORMAT);
    const all = await runCli(["keys", "create", "--workspace", "acme", "--label", "both", "--scope", "accounts:*"], env);
    expect(all.code, all.stderr).toBe(0);
    const listed = (await runCli(["keys", "list", "--workspace", "acme"], env)).stdout.split("\n");
    expect(listed.find((l) => l.startsWith(`key_${reader.split("_")[1]}`))).toContain("\treader\taccounts:read,events:read\t");
    expect(listed.find((l) => l.startsWith(`key_${all.stdout.trim().split("_")[1]}`))).toContain("\tboth\taccounts:read,accounts:write\t");
    for (const wire of WIRES) {
      expect((await callRpc(service!, wire, AccountService.method.listAccounts, {}, { apiKey: reader })).ok, wire).toBe(true);
      const denied = await callRpc(service!, wire, AccountService.method.deleteAccount, { accountId: "acc_01HXYZ0000000000000000000A" }, { apiKey: reader });
      expect(denied.ok, wire).toBe(false);
      if (!denied.ok) expect([denied.error.errorInfo?.metadata.type, denied.error.errorInfo?.metadata.scope], wire).toEqual(["errors/scope_required", "accounts:write"]);
    }
  });

  it("keys scopes replaces a key's scopes: the running server follows within API_KEY_CACHE_MS", async () => {
    const readerId = `key_${reader.split("_")[1]}`;
    const r = await runCli(["keys", "scopes", readerId, "--scope", "accounts:*"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${readerId}\taccounts:read,accounts:write\n`);
    const changedAt = Date.now();
    const deleteWith = (wire: Wire) => callRpc(service!, wire, AccountService.method.deleteAccount, { accountId: "acc_01HXYZ0000000000000000000A" }, { apiKey: reader });
    const refused = (res: Awaited<ReturnType<typeof deleteWith>>) => !res.ok && res.error.errorInfo?.metadata.type === "errors/scope_required";
    while (Date.now() - changedAt < 3 * API_KEY_CACHE_MS && refused(await deleteWith("grpc"))) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(Date.now() - changedAt).toBeLessThan(API_KEY_CACHE_MS + 1_000);
    for (const wire of WIRES) {
      const now = await deleteWith(wire);
      // Past the scope check: the account does not exist.
      expect(!now.ok && now.error.errorInfo?.metadata.type, wire).toBe("errors/not_found");
    }
    const none = await runCli(["keys", "scopes", readerId], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: keys scopes needs at least one --scope/);
  });

  it("keys create with an unknown scope: exit 1, the scope named, the known ones listed, no key made", async () => {
    const before = (await runCli(["keys", "list"], env)).stdout;
    const r = await runCli(["keys", "create", "--workspace", "acme", "--scope", "accounts:admin"], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: unknown scope "accounts:admin": known scopes are accounts:read, accounts:write, credentials:read/);
    expect((await runCli(["keys", "list"], env)).stdout).toBe(before);
  });

  it("keys revoke makes it fail with errors/revoked_api_key on the running server within API_KEY_CACHE_MS", async () => {
    const r = await runCli(["keys", "revoke", keyId], env);
    expect(r.code, r.stderr).toBe(0);
    const revokedAt = Date.now();
    const listWith = (wire: Wire) => callRpc(service!, wire, AccountService.method.listAccounts, {}, { apiKey: key });
    while (Date.now() - revokedAt < 3 * API_KEY_CACHE_MS && (await listWith("grpc")).ok) await new Promise((resolve) => setTimeout(resolve, 25));
    // The last read that cached the key was before the revocation; allow for a slow machine.
    expect(Date.now() - revokedAt).toBeLessThan(API_KEY_CACHE_MS + 1_000);
    for (const wire of WIRES) {
      const denied = await listWith(wire);
      expect(denied.ok).toBe(false);
      if (!denied.ok) expect(denied.error.errorInfo?.metadata.type, wire).toBe("errors/revoked_api_key");
    }
    const listed = await runCli(["keys", "list"], env);
    expect(listed.stdout.split("\n").find((l) => l.startsWith(keyId))).toMatch(/\trevoked \d{4}-/);
  });

  it("errors go to stderr with a non-zero exit and nothing on stdout", async () => {
    const again = await runCli(["keys", "revoke", keyId], env);
    expect(again.code).not.toBe(0);
    const noWorkspace = await runCli(["keys", "create", "--workspace", "nope"], env);
    expect(noWorkspace.code).not.toBe(0);
    expect(noWorkspace.stdout).toBe("");
    expect(noWorkspace.stderr).toContain("nope");
  });

  it("--help and -h print the usage on stdout, exit 0; --version the version", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await runCli([flag], env);
      expect(r.code, flag).toBe(0);
      expect(r.stdout).toMatch(/^usage: npm run -s cli -- <command>/);
      expect(r.stdout).toContain("keys create --workspace <name>");
      expect(r.stdout).toContain("[--scope S]");
      expect(r.stdout).toMatch(/^ {2}credentials:read {2,}read an account's credentials/m);
      expect(r.stdout).toContain("SEALING_KEYS");
      expect(r.stderr).toBe("");
    }
    expect((await runCli(["--version"], env)).stdout).toMatch(/^postpress-accounts \d+\.\d+\.\d+\n$/);
  });

  it("an unknown option or command: one clear line on stderr (no stack), exit 2, nothing opened", async () => {
    const dataDir2 = join(dataDir, "unused");
    for (const args of [["keys", "create", "--workspcae", "acme"], ["keys", "destroy"]]) {
      const r = await runCli(args, { DATA_DIR: dataDir2 });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^error: (Unknown option '--workspcae'|unknown command "keys destroy")/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(dataDir2)).toBe(false);
  });

  it("a refused setting: the message names it, exit 1, nothing opened", async () => {
    const r = await runCli(["workspaces", "list"], { DATA_DIR: join(dataDir, "unused2"), DATABASE_URL: "garbage" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: invalid configuration: DATABASE_URL must be a PostgreSQL URL.*not a valid URL/);
  });

  it("KEY=$(npm run -s cli -- keys create ...) captures the key alone, as the README shows", async () => {
    const r = await runToExit(["npm", "run", "-s", "cli", "--", "keys", "create", "--workspace", "acme"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${KEY_FORMAT.source.slice(0, -1)}\n$`));
  });

  it("secrets rotate runs on the same store", async () => {
    const r = await runCli(["secrets", "rotate"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^resealed \d+/);
  });

  it("secrets migrate runs on the same store; a bad --page-size is a usage error (exit 2)", async () => {
    const r = await runCli(["secrets", "migrate"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^migrated \d+, already current \d+, skipped 0 \(changed meanwhile\), failed 0\n$/);
    const bad = await runCli(["secrets", "migrate", "--page-size", "0"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --page-size/);
  });
});
