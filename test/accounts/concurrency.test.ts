import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, type ConnectAccountResponse } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { callRpc, WIRES, type Endpoint, type RpcResult } from "../support/clients.ts";
import { accountRows, BACKENDS, intentRows, rawPostgres, startHarness, twitterRequest, uniqueLogin, type Harness } from "./helpers.ts";
import { replicaKeyring, seedWorkspaces, spawnReplica, type Replica } from "./replicas.ts";
import { PG_URL, dropSchema, uniqueSchema } from "../support/pg.ts";

const { connectAccount } = AccountService.method;

/** Sorts the answers of a burst: exactly one may succeed; every other must be one of the two "someone else has it" answers. */
function tally(results: RpcResult<ConnectAccountResponse>[]) {
  const counts = { ok: 0, auth_in_progress: 0, already_exists: 0 };
  const ids = new Set<string>();
  for (const r of results) {
    if (r.ok) {
      counts.ok++;
      ids.add(r.response.accountId);
      continue;
    }
    const type = r.error.errorInfo?.metadata.type;
    if (r.error.code === Code.Aborted && type === "errors/auth_in_progress") counts.auth_in_progress++;
    else if (r.error.code === Code.AlreadyExists && type === "errors/already_exists") {
      counts.already_exists++;
      ids.add(r.error.errorInfo!.metadata.accountId!);
    } else throw new Error(`unexpected answer in the burst: ${r.error.code} ${type} ${r.error.message}`);
  }
  return { counts, ids };
}

describe.each(BACKENDS)("concurrent connects on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { defaultStep: { waitMs: 100 } });
  });
  afterAll(() => h?.close());

  it("50 simultaneous ConnectAccount for one identity make exactly one account", async () => {
    const login = uniqueLogin("race");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => callRpc(h.server, WIRES[i % WIRES.length]!, connectAccount, twitterRequest(login), { apiKey: h.server.apiKey })),
    );
    const { counts, ids } = tally(results);
    expect(counts.ok).toBe(1);
    expect(counts.ok + counts.auth_in_progress + counts.already_exists).toBe(50);
    // Every answer names the same account, and the table holds exactly that one.
    expect(ids.size).toBe(1);
    const rows = await accountRows(h.raw, `x-${login}`);
    expect(rows.map((r) => r.id)).toEqual([...ids]);
    // Only intent holders reach the provider; none is left open.
    expect(h.connector.callsFor(login)).toHaveLength(counts.ok + counts.already_exists);
    const intents = await intentRows(h.raw, `user:${login}`);
    expect(intents.filter((i) => i.closed_at === null)).toEqual([]);
  });

  it("50 simultaneous ConnectAccount for 50 identities make 50 accounts", async () => {
    const logins = Array.from({ length: 50 }, () => uniqueLogin("many"));
    const results = await Promise.all(logins.map((login, i) => callRpc(h.server, WIRES[i % WIRES.length]!, connectAccount, twitterRequest(login), { apiKey: h.server.apiKey })));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const rows = await h.raw.query(`SELECT provider_user_id FROM accounts WHERE provider_user_id IN (${logins.map((_, i) => `$${i + 1}`).join(", ")})`, logins.map((l) => `x-${l}`));
    expect(rows).toHaveLength(50);
  });
});

describe("two server processes sharing one PostgreSQL schema", () => {
  const schema = uniqueSchema("replicas");
  let store: Store;
  let apiKey: string;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    store = await openPostgresStore({ connectionString: PG_URL, schema });
    ({ apiKey } = await seedWorkspaces(store));
    const sealingKeys = replicaKeyring();
    // Each one is remembered as soon as it runs, so afterAll stops it even if the other fails to start.
    await Promise.all([0, 1].map(async () => replicas.push(await spawnReplica({ store: { kind: "postgres", url: PG_URL, schema }, sealingKeys, step: { waitMs: 100 } }))));
    // Two processes starting at once on a loaded machine (spawnReplica allows each 45 s).
  }, 60_000);
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.kill("SIGTERM")));
    await store?.close();
    await dropSchema(schema);
  });

  it("25 calls at each for one identity make exactly one account in the table", async () => {
    expect(new Set(replicas.map((r) => r.pid)).size).toBe(2);
    const login = uniqueLogin("replica");
    const burst = (endpoint: Endpoint, offset: number) =>
      Array.from({ length: 25 }, (_, i) => callRpc(endpoint, WIRES[(i + offset) % WIRES.length]!, connectAccount, twitterRequest(login), { apiKey }));
    const results = await Promise.all([...burst(replicas[0]!, 0), ...burst(replicas[1]!, 2)]);
    // Whichever process won, the other one's 25 callers were all turned away: only the shared database could tell it.
    for (const half of [results.slice(0, 25), results.slice(25)]) expect(half.filter((r) => r.ok).length).toBeLessThanOrEqual(1);
    const { counts, ids } = tally(results);
    expect(counts.ok).toBe(1);
    expect(counts.ok + counts.auth_in_progress + counts.already_exists).toBe(50);
    expect(ids.size).toBe(1);

    const raw = rawPostgres(schema);
    const rows = await raw.query("SELECT id, status FROM accounts WHERE provider_user_id = $1", [`x-${login}`]);
    expect(rows).toEqual([{ id: [...ids][0], status: "CONNECTED" }]);
    expect(await raw.query("SELECT count(*)::int AS n FROM accounts")).toEqual([{ n: 1 }]);
    expect(await raw.query("SELECT id FROM intents WHERE closed_at IS NULL")).toEqual([]);
  });
});
