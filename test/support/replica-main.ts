/**
 * Test-only entry point: the real server (src/server.ts build()) with the scripted connector,
 * as a process of its own, so tests can run replicas side by side or SIGKILL one mid-call.
 *
 * Environment:
 *   DATABASE_URL + PG_SCHEMA  PostgreSQL store on that schema (created and migrated if missing), or
 *   DATA_DIR                  the sqlite store <DATA_DIR>/accounts.db
 *   SEALING_KEYS              keyring spec (<id>:<base64 32 bytes>[,...]); SEALING_ACTIVE_KEY optional
 *   INTENT_TTL_MS             default 60000
 *   DATABASE_CONNECT_TIMEOUT_MS  the service's setting (default 2000): the wait for a pooled connection
 *   CONNECTOR_STEP            JSON Step (scripted-connector.ts) every connect follows, e.g. {"waitMs":100}
 *   GRPC_PORT, HTTP_PORT      default 0 (any free port)
 *   LOG_LEVEL                 default "warn"; logs go to stderr
 *   ACCOUNT_CHECK_*, EVENTS_*, WEBHOOK_*, PROVIDER_ALLOWED_NETWORKS, CREDENTIALS_*, MICROSOFT_*, GOOGLE_*  passed to the configuration as they are
 *
 * Prints one JSON line on stdout once listening: {"grpcPort":..,"httpPort":..,"pid":..}.
 * Workspaces and API keys are the test's business: it seeds the database before starting replicas.
 */
import pino from "pino";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { createLogger } from "../../src/logging.ts";
import { loadConfig } from "../../src/config.ts";
import { build } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { createScriptedConnector, type Step } from "./scripted-connector.ts";

const env = process.env;

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`replica-main: ${name} is required`);
  return value;
}

// Health check, event, webhook and credential settings pass through as they are (ACCOUNT_CHECK_*, EVENTS_*, WEBHOOK_*,
// PROVIDER_ALLOWED_NETWORKS, CREDENTIALS_*, and the OAuth clients and endpoints MICROSOFT_*, GOOGLE_*).
const eventSettings = Object.fromEntries(Object.entries(env).filter(([name]) => /^(ACCOUNT_CHECK_|EVENTS_|WEBHOOK_|CREDENTIALS_|MICROSOFT_|GOOGLE_|PROVIDER_ALLOWED_NETWORKS$)/.test(name)));
const config = loadConfig({ INTENT_TTL_MS: env.INTENT_TTL_MS || "60000", API_KEY_CACHE_MS: env.API_KEY_CACHE_MS, DATABASE_CONNECT_TIMEOUT_MS: env.DATABASE_CONNECT_TIMEOUT_MS, ...eventSettings });

async function openStoreFromEnv(): Promise<Store> {
  if (env.DATABASE_URL) {
    return openPostgresStore({ connectionString: env.DATABASE_URL, connectTimeoutMs: config.store.connectTimeoutMs, ...(env.PG_SCHEMA ? { schema: env.PG_SCHEMA } : {}) });
  }
  return openSqliteStore({ path: `${required("DATA_DIR")}/accounts.db` });
}

const log = createLogger({ level: env.LOG_LEVEL || "warn", destination: pino.destination(2) });
const sealer = createSealer(parseKeyring(required("SEALING_KEYS"), env.SEALING_ACTIVE_KEY || undefined));
const step = JSON.parse(env.CONNECTOR_STEP || "{}") as Step;
const store = await openStoreFromEnv();
const server = build(config, {
  store,
  sealer,
  connectors: [createScriptedConnector(step)],
  log,
});
const ports = await server.listen({ host: "127.0.0.1", grpcPort: Number(env.GRPC_PORT || 0), httpPort: Number(env.HTTP_PORT || 0) });
process.stdout.write(`${JSON.stringify({ ...ports, pid: process.pid })}\n`);

const stop = () => {
  server
    .drain(1_000)
    .then(() => store.close())
    .then(() => process.exit(0), () => process.exit(1));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
