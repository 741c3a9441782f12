import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc } from "../support/clients.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";

/**
 * A first start on an empty PostgreSQL database does what a first start on the embedded store
 * does: workspace `default`, one API key in <DATA_DIR>/api-key, a log line that says where,
 * never what. In production an empty database stays empty and the log says how to go on.
 */

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** DATABASE_URL of a fresh schema of its own (search_path through the URL's options). */
async function emptyDatabase(): Promise<{ url: string; schema: string }> {
  const schema = uniqueSchema("first_start");
  await withPg((client) => client.query(`CREATE SCHEMA ${schema}`));
  cleanup.push(() => dropSchema(schema));
  const url = new URL(PG_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return { url: url.toString(), schema };
}

async function start(env: Record<string, string>): Promise<ServiceProcess> {
  const dataDir = tempDataDir();
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const service = await startServiceProcess({ dataDir, env });
  cleanup.push(async () => {
    service.child.kill("SIGTERM");
    await service.exited;
  });
  return service;
}

async function workspaceNames(schema: string): Promise<string[]> {
  return withPg(async (client) => (await client.query<{ name: string }>(`SELECT name FROM ${schema}.workspaces`)).rows.map((r) => r.name));
}

describe("first start on an empty PostgreSQL", () => {
  it("creates workspace default and its key in <DATA_DIR>/api-key (0600); logs where, never what; the key works", async () => {
    const db = await emptyDatabase();
    const service = await start({ DATABASE_URL: db.url });
    const path = join(service.dataDir, "api-key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const apiKey = readFileSync(path, "utf8").trim();
    const line = service.logs().find((l) => l.msg === "created workspace 'default' and wrote its first API key to a file");
    expect(line).toMatchObject({ path, workspace: "default", store: "postgres" });
    expect([...service.stdout, ...service.stderr].join("\n")).not.toContain(apiKey.slice("ppa_".length + 26 + 1));
    expect(await workspaceNames(db.schema)).toEqual(["default"]);
    const r = await callRpc(service, "connect-json", AccountService.method.listAccounts, {}, { apiKey });
    expect(r.ok).toBe(true);
  });

  it("in production: no workspace, no key file, and a warning that says how to create them", async () => {
    const db = await emptyDatabase();
    const service = await start({ DATABASE_URL: db.url, NODE_ENV: "production", SEALING_KEYS: `k1:${randomBytes(32).toString("base64")}` });
    expect(existsSync(join(service.dataDir, "api-key"))).toBe(false);
    expect(service.logs().find((l) => l.level === 40)?.msg).toMatch(/no workspace: create one and its API key with the CLI/);
    expect(await workspaceNames(db.schema)).toEqual([]);
  });
});
