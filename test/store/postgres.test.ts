import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors/app-error.ts";
import { migrations } from "../../src/store/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { intent, workspace } from "./fixtures.ts";

// What only PostgreSQL can do to us: be unreachable, be slow, drop connections, host several replicas.
describe("PostgreSQL availability", () => {
  const schema = uniqueSchema("store_test");
  // Tags this suite's connections so it can kill them without touching anyone else's.
  const applicationName = `${schema}_app`;
  let store: Store;
  let workspaceId: string;

  beforeAll(async () => {
    store = await openPostgresStore({ connectionString: `${PG_URL}?application_name=${applicationName}`, schema });
    const ws = workspace();
    await store.createWorkspace(ws);
    workspaceId = ws.id;
  });

  afterAll(async () => {
    await store?.close();
    await dropSchema(schema);
  });

  const terminateStoreConnections = () =>
    withPg((client) => client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [applicationName]));

  const listSome = () => store.listAccounts({ workspaceId, limit: 1 });

  /** Calls `fn` until it succeeds; every failure on the way must be service_unavailable. */
  async function eventually<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        expect((e as AppError).kind).toBe("service_unavailable");
        if (attempt === 5) throw e;
      }
    }
  }

  it("fails to open on an unreachable server with service_unavailable, quickly", async () => {
    const started = Date.now();
    const error = await openPostgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/test" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe("service_unavailable");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("turns a statement timeout into service_unavailable and serves again once the lock is gone", async () => {
    const impatient = await openPostgresStore({ connectionString: PG_URL, schema, statementTimeoutMs: 300 });
    const list = () => impatient.listAccounts({ workspaceId, limit: 1 });
    try {
      await withPg(async (locker) => {
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE ${schema}.accounts IN ACCESS EXCLUSIVE MODE`);
        await expect(list()).rejects.toMatchObject({ kind: "service_unavailable" });
        await locker.query("ROLLBACK");
      });
      expect(await list()).toEqual([]);
    } finally {
      await impatient.close();
    }
  });

  it("survives its idle connections being killed", async () => {
    await listSome();
    await terminateStoreConnections();
    await sleep(100); // lets the pool see the dead idle clients ('error' events) before the next call
    expect(await eventually(listSome)).toEqual([]);
  });

  it("recovers right after its connections are killed", async () => {
    await listSome();
    await terminateStoreConnections();
    expect(await eventually(listSome)).toEqual([]);
  });

  it("fails a transaction whose connection is killed mid-way, then serves again", async () => {
    const now = new Date();
    await withPg(async (locker) => {
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE ${schema}.intents IN ACCESS EXCLUSIVE MODE`);
      const blocked = store.openIntent(intent(workspaceId, now), now).catch((e: unknown) => e);
      await until(() => withPg(async (c) => (await c.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [applicationName])).rowCount === 1));
      await terminateStoreConnections();
      expect(await blocked).toMatchObject({ kind: "service_unavailable" });
      await locker.query("ROLLBACK");
    });
    expect(await eventually(() => store.openIntent(intent(workspaceId, now), now))).toHaveProperty("opened");
  });
});

describe("PostgreSQL migrations", () => {
  it("lets replicas start together on an empty schema: each migration applied once", async () => {
    const schema = uniqueSchema("store_test");
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore({ connectionString: PG_URL, schema })));
      await Promise.all(stores.map((s) => s.close()));
      const versions = await withPg((c) => c.query(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`));
      expect(versions.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    } finally {
      await dropSchema(schema);
    }
  });
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}
