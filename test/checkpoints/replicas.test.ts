/**
 * Replicas: two (then three) processes of the real service (src/main.ts) on one PostgreSQL
 * schema, one gateway. Any replica carries on any intent; losing the one that started an
 * intent does not lose its outcome.
 */
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ulid } from "ulid";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountEventKind } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../src/crypto/sealer.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { PG_URL } from "../support/pg.ts";
import { eventually, expectError, expectOk, intentAtGateway, leaks, linkedinBasic, login, rpc, secret, twitter, whatsapp } from "./support/helpers.ts";
import { schemaUrl, startReplica, type Replica } from "./support/replica.ts";
import { kinds, watchAccount } from "./support/watch.ts";

const schema = `cp_replicas_${ulid().toLowerCase()}`;
const sealingKey = `k1:${randomBytes(32).toString("base64")}`;
let store: Store;
let gateway: ScriptedGateway;
let a: Replica;
let b: Replica;
let apiKey = "";
let workspaceId = "";
const secrets: string[] = [];
/** Replicas killed or stopped along the way: their logs are checked too. */
const retired: Replica[] = [];

function env(): Record<string, string> {
  return {
    DATABASE_URL: schemaUrl(schema),
    SEALING_KEYS: sealingKey,
    GATEWAY_URL_LINKEDIN: gateway.address,
    GATEWAY_URL_TWITTER: gateway.address,
    GATEWAY_URL_WHATSAPP: gateway.address,
    INTENT_POLL_MS: "100",
  };
}

/** An X login whose password is remembered for the log check. */
function tw(username: string) {
  const password = secret("x-password");
  secrets.push(password);
  return twitter(username, password);
}

const endpoint = (replica: Replica) => ({ grpcAddress: replica.grpcAddress, httpUrl: replica.httpUrl, apiKey });

beforeAll(async () => {
  // The schema, its tables and the workspace exist before the replicas start (as after a deploy).
  store = await openPostgresStore({ connectionString: PG_URL, schema });
  const ws = await createWorkspace(store, "alpha");
  workspaceId = ws.id;
  apiKey = (await createApiKey(store, "alpha", "replicas")).token;
  gateway = await startScriptedGateway({ qrRotateMs: 200, scanAfterMs: null, slowMs: 2000 });
  [a, b] = await Promise.all([startReplica("a", env()), startReplica("b", env())]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await gateway?.close();
  await store?.close();
  const pg = await import("pg");
  const client = new pg.default.Client(PG_URL);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}, 30_000);

describe("two service processes on one PostgreSQL", () => {
  it.each([
    ["grpc", "connect-binary"],
    ["connect-binary", "grpc"],
  ] as const)("an intent started on A (over %s) is solved through B (over %s); A's watch stream sees CONNECTED", async (wireA, wireB) => {
    const password = secret("li-password");
    secrets.push(password);
    const r = expectOk(await rpc(endpoint(a), wireA).connect(linkedinBasic(login("2fa"), password)));
    expect(r.object).toBe("Checkpoint");
    const watchOnA = watchAccount(a, wireA, apiKey, r.accountId);
    await watchOnA.event(0);
    expectError(await rpc(endpoint(b), wireB).solve(r.accountId, "000000"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(expectOk(await rpc(endpoint(b), wireB).solve(r.accountId, SCRIPT_CODE))).toMatchObject({ object: "AccountCreated", accountId: r.accountId });
    const { events, end } = await watchOnA.finished();
    expect(end).toEqual({ ok: true });
    expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
    for (const replica of [a, b]) expect(expectOk(await rpc(endpoint(replica), "grpc").get(r.accountId)).account?.status).toBe(AccountStatus.CONNECTED);
    // Sealed once, under the account's id, by whichever replica created it.
    const account = await store.getAccount(workspaceId, r.accountId);
    const sealer = createSealer(parseKeyring(sealingKey));
    expect(() => sealer.open(account!.secrets!, sealingAad(workspaceId, r.accountId))).not.toThrow();
    expect(sealer.open(account!.secrets!, sealingAad(workspaceId, r.accountId)).toString("latin1")).toContain(password);
    const intent = await store.getIntentByAccountId(workspaceId, r.accountId);
    expect(intent).toMatchObject({ status: "CONNECTED", secrets: null });
  });

  it("a WhatsApp QR started on A, watched on A and on B: both see the refreshed codes and the scan", async () => {
    const r = expectOk(await rpc(endpoint(a), "grpc").connect(whatsapp()));
    const onA = watchAccount(a, "grpc", apiKey, r.accountId);
    const onB = watchAccount(b, "connect-binary", apiKey, r.accountId);
    await onA.event(2);
    await onB.event(2);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    for (const watch of [onA, onB]) {
      const { events } = await watch.finished();
      expect(kinds(events)[0]).toBe("CHECKPOINT");
      expect(kinds(events).at(-1)).toBe("CONNECTED");
      expect(kinds(events).slice(1, -1).every((k) => k === "CHECKPOINT_REFRESHED")).toBe(true);
    }
    expect((await store.listAccounts({ workspaceId, limit: 1000 })).filter((x) => x.id === r.accountId)).toHaveLength(1);
  });

  it("one open intent per identity across replicas; a restart on B cancels A's intent and A's waiting ConnectAccount", async () => {
    const username = login("slow");
    const onA = rpc(endpoint(a), "grpc").connect(tw(username), { timeoutMs: 15_000 });
    await eventually(() => gateway.received.find((x) => x.request.variant.case === "twitter" && x.request.variant.value.username === username), 5000, "A's start");
    expectError(await rpc(endpoint(b), "connect-binary").connect(tw(username)), Code.Aborted, "errors/auth_in_progress");
    const onB = rpc(endpoint(b), "connect-binary").connect({ ...tw(username), restart: true }, { timeoutMs: 15_000 });
    // Canceled, not the provider's answer: B's restart ended A's call.
    expectError(await onA, Code.Aborted, "errors/operation_canceled");
    const second = expectOk(await onB);
    expect(second.object).toBe("Checkpoint");
    // Canceled on A from B: A's watch of the new one sees it end.
    const watchOnA = watchAccount(a, "grpc", apiKey, second.accountId);
    await watchOnA.event(0);
    expectOk(await rpc(endpoint(b), "grpc").cancel(second.accountId));
    const { events } = await watchOnA.finished();
    expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([
      ["CHECKPOINT", ""],
      ["CANCELED", "errors/operation_canceled"],
    ]);
  });

  it("losing the replica that started an intent does not lose its outcome", async () => {
    const c = await startReplica("c", env());
    try {
      // A QR started on C; C dies; the phone scans it with no replica listening.
      const qr = expectOk(await rpc(endpoint(c), "grpc").connect(whatsapp()));
      // A 2FA login started on C; C dies before the code comes.
      const code = expectOk(await rpc(endpoint(c), "grpc").connect(tw(login("2fa"))));
      await c.kill();
      gateway.confirm(intentAtGateway(gateway, qr.accountId));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The next GetAccount, on any replica, asks the gateway and records the account.
      const { account } = expectOk(await rpc(endpoint(b), "grpc").get(qr.accountId));
      expect(account?.status).toBe(AccountStatus.CONNECTED);
      expect(expectOk(await rpc(endpoint(a), "connect-binary").get(qr.accountId)).account?.id).toBe(qr.accountId);
      // The other intent carries on from A.
      const watch = watchAccount(a, "connect-binary", apiKey, code.accountId);
      await watch.event(0);
      expect(expectOk(await rpc(endpoint(a), "grpc").solve(code.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
      expect(kinds((await watch.finished()).events)).toEqual(["CHECKPOINT", "CONNECTED"]);
    } finally {
      await c.kill();
      retired.push(c);
    }
  });

  it("a replica stopping (SIGTERM) ends its watches with a retryable error; the watch resumes on the other one", async () => {
    const d = await startReplica("d", env());
    retired.push(d);
    const r = expectOk(await rpc(endpoint(d), "grpc").connect(tw(login("2fa"))));
    const onD = watchAccount(d, "grpc", apiKey, r.accountId);
    await onD.event(0);
    await d.stop();
    const { end } = await onD.finished();
    expect(end.ok).toBe(false);
    if (!end.ok) {
      expect(Code[end.error.code]).toBe("Unavailable");
      expect(end.error.errorInfo?.metadata.type).toBe("errors/service_unavailable");
    }
    const onA = watchAccount(a, "grpc", apiKey, r.accountId);
    await onA.event(0);
    expectOk(await rpc(endpoint(b), "grpc").solve(r.accountId, SCRIPT_CODE));
    expect(kinds((await onA.finished()).events)).toEqual(["CHECKPOINT", "CONNECTED"]);
  });

  it("no secret in any replica's logs", () => {
    expect(secrets.length).toBeGreaterThan(0);
    const logs = Object.fromEntries([a, b, ...retired].map((r) => [r.name, r.lines.join("\n")]));
    expect(Object.keys(logs)).toEqual(["a", "b", "c", "d"]);
    expect(leaks([...secrets, SCRIPT_CODE], logs)).toEqual([]);
    // The replicas did log their calls.
    expect(a.lines.some((l) => l.includes('"method":"ConnectAccount"'))).toBe(true);
    expect(b.lines.some((l) => l.includes('"method":"SolveCheckpoint"'))).toBe(true);
  });
});
