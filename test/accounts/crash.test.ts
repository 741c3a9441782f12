import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { callRpc, WIRES } from "../support/clients.ts";
import { BACKENDS, expectFailure, expectOk, rawPostgres, rawSqlite, storedDate, twitterRequest, uniqueLogin, type RawDb } from "./helpers.ts";
import { replicaKeyring, seedWorkspaces, spawnReplica, type Replica, type ReplicaOptions } from "./replicas.ts";
import { PG_URL, dropSchema, uniqueSchema } from "../support/pg.ts";

const { connectAccount } = AccountService.method;
/**
 * Long enough that the four intents are all open at once before the kill and outlive the
 * restart on a loaded machine (where a replica takes seconds to start), short enough to wait for.
 */
const INTENT_TTL_MS = 12_000;

describe.each(BACKENDS)("a replica killed mid-connect on %s", (kind) => {
  let store: ReplicaOptions["store"];
  let raw: RawDb;
  let apiKey: string;
  let cleanup: () => Promise<void>;
  const started: Replica[] = [];
  const sealingKeys = replicaKeyring();

  beforeAll(async () => {
    if (kind === "postgres") {
      const schema = uniqueSchema("crash");
      const seeding = await openPostgresStore({ connectionString: PG_URL, schema });
      ({ apiKey } = await seedWorkspaces(seeding));
      await seeding.close();
      store = { kind: "postgres", url: PG_URL, schema };
      raw = rawPostgres(schema);
      cleanup = () => dropSchema(schema);
    } else {
      const dataDir = await mkdtemp(join(tmpdir(), "ppa-crash-"));
      const seeding = await openSqliteStore({ path: join(dataDir, "accounts.db") });
      ({ apiKey } = await seedWorkspaces(seeding));
      await seeding.close();
      store = { kind: "sqlite", dataDir };
      raw = rawSqlite(join(dataDir, "accounts.db"));
      cleanup = () => rm(dataDir, { recursive: true, force: true });
    }
  });
  afterAll(async () => {
    await Promise.all(started.map((r) => r.kill("SIGKILL")));
    await cleanup?.();
  });

  async function replica(step: ReplicaOptions["step"]): Promise<Replica> {
    const r = await spawnReplica({ store, sealingKeys, intentTtlMs: INTENT_TTL_MS, step });
    started.push(r);
    return r;
  }

  it("leaves no account behind, and after the intents expire the same identities connect", async () => {
    const logins = WIRES.map(() => uniqueLogin("crash"));
    // The provider never answers before the kill, however slowly the calls arrive.
    const first = await replica({ waitMs: 60_000 });
    // connect-json (fetch) throws when the socket goes away; the other clients answer UNAVAILABLE / INTERNAL.
    const calls = logins.map((login, i) =>
      callRpc(first, WIRES[i]!, connectAccount, twitterRequest(login), { apiKey, timeoutMs: 30_000 }).catch((e: unknown) => ({ ok: false as const, thrown: e })),
    );

    // Every call is inside the connector once its intent is in the database.
    const keys = logins.map((l) => `user:${l}`);
    const openIntents = () => raw.query(`SELECT * FROM intents WHERE closed_at IS NULL AND identity_key IN (${keys.map((_, i) => `$${i + 1}`).join(", ")})`, keys);
    for (let waited = 0; (await openIntents()).length < logins.length; waited += 25) {
      if (waited > 20_000) throw new Error("the connects never opened their intents");
      await sleep(25);
    }
    first.child.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });

    // The callers see the process vanish; none got an account.
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.ok)).toEqual([]);
    expect(await raw.query("SELECT id FROM accounts")).toEqual([]);
    const intents = await openIntents();
    expect(intents).toHaveLength(logins.length);
    const expiresAt = Math.max(...intents.map((i) => storedDate(i.expires_at).getTime()));

    // A new process (same database, same keys) whose provider now answers at once.
    const second = await replica({});
    // Before the crashed process's intents expire, they still hold their identities...
    // (Only when that is still true while the call runs: on a loaded machine the call itself takes seconds.)
    if (Date.now() < expiresAt - 4_000) {
      expectFailure(await callRpc(second, "grpc", connectAccount, twitterRequest(logins[0]!), { apiKey }), Code.Aborted, "errors/auth_in_progress");
    }
    // ...and once expired, every identity connects: nothing is stuck.
    await sleep(Math.max(0, expiresAt - Date.now() + 50));
    const ids: string[] = [];
    for (const [i, login] of logins.entries()) ids.push(expectOk(await callRpc(second, WIRES[i]!, connectAccount, twitterRequest(login), { apiKey })).accountId);

    const accounts = await raw.query("SELECT id, provider_user_id, status FROM accounts ORDER BY provider_user_id");
    expect(accounts).toEqual(logins.map((l, i) => ({ id: ids[i], provider_user_id: `x-${l}`, status: "CONNECTED" })).sort((a, b) => a.provider_user_id.localeCompare(b.provider_user_id)));
    const statuses = await raw.query(`SELECT identity_key, status FROM intents WHERE identity_key IN (${keys.map((_, i) => `$${i + 1}`).join(", ")}) ORDER BY id`, keys);
    for (const key of keys) expect(statuses.filter((s) => s.identity_key === key).map((s) => s.status).slice(-2)).toEqual(["EXPIRED", "CONNECTED"]);
    await second.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
    // Two replica starts (seconds each under load), the wait for the intents to open, then their TTL.
  }, 90_000);
});
