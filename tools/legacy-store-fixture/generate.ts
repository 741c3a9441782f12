/**
 * Writes test/fixtures/legacy-store/: a store as the service wrote it before credentials were
 * sealed in their own type (commit 39be888, "today's main" of issue 16), for the credentials
 * migration test (test/store/credentials-migration.test.ts). Run it only to regenerate:
 *
 *   git worktree add /tmp/legacy-main 39be888
 *   ln -s "$PWD/node_modules" /tmp/legacy-main/node_modules
 *   node tools/legacy-store-fixture/generate.ts /tmp/legacy-main test/fixtures/legacy-store
 *   git worktree remove /tmp/legacy-main
 *
 * Every row is written by that checkout's own code (its sealer, connectedAccount,
 * sealAccountSecrets, stores), never by this version's. Output, all self-contained:
 *   sealing-keys      the fixture's SEALING_KEYS (a throwaway test key)
 *   accounts.db       the embedded store (SQLite)
 *   postgres.sql      the same rows on PostgreSQL: a pg_dump of schema FIXTURE_SCHEMA
 *   manifest.json     which row is which variant, with or without a provider session
 * The values sealed are test/support/connect-requests.ts's planted ones.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import pg from "pg";
import type { ConnectAccountRequest } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Variant } from "../../src/domain/connectors/connector.ts";
import type { AccountRecord, IntentRecord, Store, WebhookEndpointRecord, Workspace } from "../../src/store/store.ts";
import { PLANTED_SESSION, VARIANT_REQUESTS } from "../../test/support/connect-requests.ts";

const [checkoutArg, outArg] = process.argv.slice(2);
if (!checkoutArg || !outArg) {
  console.error("usage: node tools/legacy-store-fixture/generate.ts <checkout of 39be888> <out dir>");
  process.exit(2);
}
const checkout = resolve(checkoutArg);
const out = resolve(outArg);
const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** The schema name in postgres.sql; the test replaces it with a schema of its own. */
const FIXTURE_SCHEMA = "legacy_fixture";
/** Variants sealed with a provider session, as drivers end their logins. */
const WITH_SESSION: Record<string, { format: string; data: string }> = {
  whatsapp: PLANTED_SESSION,
  telegram: { format: "gramjs-string-session/v1", data: "planted-telegram-string-session" },
};
/** Variants also left as an open interactive intent (its request sealed under the intent's id). */
const OPEN_INTENTS = ["linkedinBasic", "messengerSession"];

/** A module of the old checkout, typed as this version's file of the same path (the functions used here kept their signatures). */
const old = <T>(path: string): Promise<T> => import(pathToFileURL(join(checkout, path)).href) as Promise<T>;
const { parseKeyring } = await old<typeof import("../../src/crypto/keyring.ts")>("src/crypto/keyring.ts");
const { createSealer, sealingAad } = await old<typeof import("../../src/crypto/sealer.ts")>("src/crypto/sealer.ts");
const { openSqliteStore } = await old<typeof import("../../src/store/sqlite.ts")>("src/store/sqlite.ts");
const { openPostgresStore } = await old<typeof import("../../src/store/postgres.ts")>("src/store/postgres.ts");
const { connectedAccount } = await old<typeof import("../../src/domain/accounts/connected-account.ts")>("src/domain/accounts/connected-account.ts");
const { sealAccountSecrets } = await old<typeof import("../../src/domain/accounts/account-secrets.ts")>("src/domain/accounts/account-secrets.ts");
const { newIntent } = await old<typeof import("../../src/domain/accounts/new-intent.ts")>("src/domain/accounts/new-intent.ts");
const { ConnectAccountRequestSchema } = await old<typeof import("../../gen/postpress/accounts/v1/account_service_pb.js")>("gen/postpress/accounts/v1/account_service_pb.js");
const { newId } = await old<typeof import("../../src/ids.ts")>("src/ids.ts");
type Request = ConnectAccountRequest & { variant: Variant };

const keys = `fixture:${randomBytes(32).toString("base64")}`;
const sealer = createSealer(parseKeyring(keys));
const at = new Date("2026-12-01T12:00:00.000Z");
const manifest: { table: string; id: string; workspaceId: string; variant: string; session: boolean; deleted?: boolean }[] = [];

/** Writes the same rows (ids included) into a store. */
async function populate(store: Store, plan: Plan): Promise<void> {
  await store.createWorkspace(plan.workspace);
  for (const { intent, account } of plan.accounts) {
    await store.openIntent(intent, at);
    await store.insertAccount(account, intent.id, at);
  }
  await store.deleteAccount(plan.workspace.id, plan.deleted, at);
  for (const intent of plan.openIntents) await store.openIntent(intent, at);
  await store.createWebhookEndpoint(plan.webhook);
}

interface Plan {
  workspace: Workspace;
  accounts: { intent: IntentRecord; account: AccountRecord }[];
  deleted: string;
  openIntents: IntentRecord[];
  webhook: WebhookEndpointRecord;
}

function plan(): Plan {
  const workspace = { id: newId("ws_"), name: "legacy", createdAt: at };
  const accounts = Object.keys(VARIANT_REQUESTS).map((variant) => {
    const request = fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS[variant]!) as Request;
    const intent = newIntent(request, workspace.id, at, 86_400_000);
    const session = WITH_SESSION[variant];
    const result = { identity: { providerUserId: `fixture-${variant}` }, ...(session ? { session } : {}) };
    const account = connectedAccount(intent, request, result, sealer, at);
    manifest.push({ table: "accounts", id: account.id, workspaceId: workspace.id, variant, session: session !== undefined });
    return { intent, account };
  });
  // A deleted account keeps no secrets: the migration must pass it by.
  const deleted = accounts[Object.keys(VARIANT_REQUESTS).indexOf("twitter")]!.account.id;
  manifest.find((m) => m.id === deleted)!.deleted = true;
  const openIntents = OPEN_INTENTS.map((variant): IntentRecord => {
    const request = fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS[variant]!) as Request;
    const base = newIntent(request, workspace.id, at, 10 * 365 * 86_400_000);
    manifest.push({ table: "intents", id: base.id, workspaceId: workspace.id, variant, session: false });
    return {
      ...base,
      status: "CHECKPOINT",
      state: { flow: "interactive", variant: request.variant.case, key: base.id, version: 1, seq: 1, checkpoint: { type: "2FA" } },
      secrets: sealAccountSecrets(sealer, { request }, workspace.id, base.id),
    };
  });
  const webhookId = newId("whe_");
  const webhook: WebhookEndpointRecord = {
    id: webhookId,
    workspaceId: workspace.id,
    url: "https://hooks.example.com/postpress",
    eventTypes: ["account.connected"],
    status: "ENABLED",
    disabledReason: null,
    secret: sealer.seal(Buffer.from("planted-webhook-signing-secret"), sealingAad(workspace.id, webhookId)),
    createdAt: at,
    updatedAt: at,
  };
  manifest.push({ table: "webhook_endpoints", id: webhookId, workspaceId: workspace.id, variant: "webhook", session: false });
  return { workspace, accounts, deleted, openIntents, webhook };
}

const rows = plan();
mkdirSync(out, { recursive: true });

// The embedded store, written in a scratch directory and copied once closed (its WAL folded in).
const scratch = mkdtempSync(join(tmpdir(), "legacy-fixture-"));
const sqlite = await openSqliteStore({ path: join(scratch, "accounts.db") });
await populate(sqlite, rows);
await sqlite.close();
if (existsSync(join(scratch, "accounts.db-wal"))) throw new Error("the SQLite WAL was not folded in on close");
copyFileSync(join(scratch, "accounts.db"), join(out, "accounts.db"));
rmSync(scratch, { recursive: true, force: true });

// PostgreSQL: a schema of its own, dumped as plain SQL (INSERTs, no owner), then dropped.
const admin = new pg.Client(PG_URL);
await admin.connect();
await admin.query(`DROP SCHEMA IF EXISTS ${FIXTURE_SCHEMA} CASCADE`);
const postgres = await openPostgresStore({ connectionString: PG_URL, schema: FIXTURE_SCHEMA });
await populate(postgres, rows);
await postgres.close();
const dump = execFileSync("pg_dump", ["--dbname", PG_URL, "--schema", FIXTURE_SCHEMA, "--inserts", "--no-owner", "--no-privileges"], { encoding: "utf8", maxBuffer: 64 << 20 });
await admin.query(`DROP SCHEMA ${FIXTURE_SCHEMA} CASCADE`);
await admin.end();
// psql meta-commands (\restrict in newer pg_dump) are not SQL: the test runs the dump through a plain client.
writeFileSync(join(out, "postgres.sql"), dump.split("\n").filter((line) => !line.startsWith("\\")).join("\n"));

writeFileSync(join(out, "sealing-keys"), `${keys}\n`);
writeFileSync(join(out, "manifest.json"), `${JSON.stringify({ generatedFrom: "39be888", schema: FIXTURE_SCHEMA, rows: manifest }, null, 2)}\n`);
console.log(`wrote ${manifest.length} rows to ${out}`);
