/**
 * The real service for the benchmark: src/server.ts build() over a real store, with the bench
 * connector injected through its `connectors` dependency. Spawned by bench/run.ts under
 * `taskset -c 0`.
 *
 *   --store sqlite|postgres   (default sqlite; postgres needs --database-url and --schema)
 *   --data-dir DIR            where the SQLite file lives (default: a fresh temp dir)
 *   --connector-delay-ms N    how long the bench connector takes (default 0)
 *   --seed N                  accounts to create before listening (for GetAccount / ListAccounts)
 *   --max-pending-intents N   MAX_PENDING_INTENTS (default: the production default)
 *   --credentials             serve CredentialService (CREDENTIALS_SERVICE=grpc) and seed an Outlook account with an
 *                             unexpired token plus a credentials:read key (for GetCredentials)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import { loadConfig } from "../../src/config.ts";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { AccountsService } from "../../src/domain/accounts/accounts-service.ts";
import type { Variant } from "../../src/domain/connectors/connector.ts";
import { createConnectorRegistry } from "../../src/domain/connectors/registry.ts";
import { createLogger } from "../../src/logging.ts";
import { build } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { benchConnector } from "../bench-connector.ts";
import { seedCredentialsAccount } from "../lib/credentials-seed.ts";
import { precompileRules } from "../../src/rpc/validation.ts";
import { connectRequestInit } from "../lib/messages.ts";
import { countGrpcStatuses, countingLogDestination, option, serveControl } from "./common.ts";

countGrpcStatuses();

const backend = option("store") ?? "sqlite";
const delayMs = Number(option("connector-delay-ms") ?? 0);
const seed = Number(option("seed") ?? 0);
const dataDir = option("data-dir") ?? mkdtempSync(join(tmpdir(), "ppa-bench-"));
const databaseUrl = option("database-url");
const schema = option("schema");
const maxPendingIntents = option("max-pending-intents");
const credentials = process.argv.includes("--credentials");

const store =
  backend === "postgres"
    ? await openPostgresStore({ connectionString: databaseUrl!, schema: schema! })
    : await openSqliteStore({ path: join(dataDir, "accounts.db") });
const sealer = createSealer(parseKeyring(`bench:${randomBytes(32).toString("base64")}`));
const log = createLogger({ level: "info", destination: countingLogDestination() });
const connector = benchConnector({ delayMs });

const workspace = await createWorkspace(store, "bench");
const { token: apiKey } = await createApiKey(store, "bench", "bench");

// Seeded through the same domain code ConnectAccount runs, with an instant connector.
const accountIds: string[] = [];
if (seed > 0) {
  const accounts = new AccountsService({ store, sealer, connectors: createConnectorRegistry([benchConnector()]), intentTtlMs: 120_000 });
  const request = create(ConnectAccountRequestSchema, connectRequestInit()) as ReturnType<typeof create<typeof ConnectAccountRequestSchema>> & { variant: Variant };
  for (let i = 0; i < seed; i++) {
    const scope = { workspaceId: workspace.id, signal: new AbortController().signal, deadline: new Date(Date.now() + 60_000), log };
    const outcome = await accounts.begin(request, scope);
    if (outcome.kind !== "created") throw new Error("the bench connector answers once");
    accountIds.push(outcome.account.id);
  }
  accounts.stop();
}

const credentialsSeed = credentials ? await seedCredentialsAccount(store, sealer, workspace) : undefined;

// The configuration as in production (every default: the API-key cache included), but for the cap a burst scenario
// raises, and CredentialService on the gRPC port when asked for.
const settings = {
  ...(maxPendingIntents === undefined ? {} : { MAX_PENDING_INTENTS: maxPendingIntents }),
  ...(credentials ? { CREDENTIALS_SERVICE: "grpc" } : {}),
};
const server = build(loadConfig(settings), { store, sealer, connectors: [connector], log });
const ports = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0 });
// As serve.ts does once it listens (within a second of a production start): the load finds the request rules compiled.
await precompileRules();

/** Reads the database from a connection of its own (not the service's): each query's rows. */
async function readRows(queries: string[]): Promise<Record<string, unknown>[][]> {
  if (backend === "postgres") {
    const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      const results = [];
      for (const sql of queries) results.push((await client.query(sql)).rows as Record<string, unknown>[]);
      return results;
    } finally {
      await client.end();
    }
  }
  const db = new DatabaseSync(join(dataDir, "accounts.db"), { readOnly: true });
  try {
    return queries.map((sql) => db.prepare(sql).all());
  } finally {
    db.close();
  }
}

/** Rows as the database holds them: every ConnectAccount that succeeded left one account and one CONNECTED intent. */
async function countRows(): Promise<Record<string, unknown>> {
  const [accounts, intentsByStatus] = await readRows(["SELECT count(*) AS n FROM accounts", "SELECT status, count(*) AS n FROM intents GROUP BY status"]);
  return { accounts: Number(accounts![0]!.n), intents: Object.fromEntries(intentsByStatus!.map((r) => [r.status, Number(r.n)])) };
}

/**
 * Waits until the health checker has given every seeded account its place in the check
 * schedule. It does so on first sight of a just-linked account, one transaction (and, on the
 * embedded store, one fsync) per account: for 200 accounts linked the second before the server
 * started, a burst some seconds long that would otherwise land in the first load run's
 * measurement. A linked account goes through it once in its life; what the read scenarios
 * measure is reads.
 */
async function untilSeedScheduled(): Promise<void> {
  const unscheduled = "SELECT count(*) AS n FROM accounts WHERE next_check_at IS NULL AND status IN ('CONNECTED', 'ERROR')";
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 200))) {
    const [[row]] = (await readRows([unscheduled])) as [[{ n: unknown }]];
    if (Number(row.n) === 0) return;
  }
  throw new Error("bench: the seeded accounts were not scheduled for health checks within 60 s");
}
if (seed > 0) await untilSeedScheduled();

serveControl(
  {
    kind: "service",
    store: store.kind,
    ...ports,
    apiKey,
    workspaceId: workspace.id,
    accountIds: accountIds.slice(0, 1),
    seeded: accountIds.length,
    dataDir,
    ...(credentialsSeed ? { credentialsApiKey: credentialsSeed.apiKey, credentialsAccountId: credentialsSeed.accountId } : {}),
  },
  {
    collect: async () => ({ rows: await countRows(), connectorCalls: connector.calls }),
    quiesce: () => server.drain(10_000),
    stop: () => store.close(),
  },
);
