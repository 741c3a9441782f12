import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import { loadConfig, type TransportSettings } from "../../src/config.ts";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer, type Sealer } from "../../src/crypto/sealer.ts";
import type { AnyConnector } from "../../src/domain/connectors/registry.ts";
import { build, type Server } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { capturedLogger } from "./logs.ts";
import { PG_URL } from "./pg.ts";

export interface TestServer {
  grpcAddress: string;
  httpUrl: string;
  /** The admin metrics server, when `metrics` was asked for. */
  metricsUrl: string | undefined;
  /** API key of workspace "alpha". */
  apiKey: string;
  /** API key of workspace "beta", for isolation tests. */
  otherApiKey: string;
  store: Store;
  sealer: Sealer;
  logs: string[];
  dataDir: string;
  server: Server;
  close(): Promise<void>;
}

export interface TestServerOptions {
  connectors?: AnyConnector[];
  backend?: "sqlite" | "postgres";
  /** Share a PostgreSQL schema between servers (replica tests). */
  pgSchema?: string;
  intentTtlMs?: number;
  /** Reuse a sealer (and its key) across servers. */
  sealer?: Sealer;
  /** Skip creating workspaces (a second replica on the same database); pass their keys instead. */
  seed?: boolean;
  keys?: { apiKey: string; otherApiKey: string };
  intentPollMs?: number;
  /** Open intents a workspace may have at once (default: no limit). */
  maxPendingIntents?: number;
  /** Connection limits, timeouts, CORS origins (defaults: the service's own). */
  transport?: Partial<TransportSettings>;
  /** Serve GET /metrics on an admin port of its own. */
  metrics?: boolean;
  /** Where the SQLite store lives (a directory the test prepared); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Further configuration, as environment variables (parsed by the service's own loadConfig). */
  env?: Record<string, string>;
}

export function testSealer(): Sealer {
  return createSealer(parseKeyring(`test:${randomBytes(32).toString("base64")}`));
}

/** The real server on ports 0 over a real store, with two workspaces and their keys. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "ppa-test-"));
  const store =
    options.backend === "postgres"
      ? // Generous: bursts of calls queue for the pool, and a loaded machine moves the queue slowly.
        await openPostgresStore({ connectionString: PG_URL, schema: options.pgSchema ?? `t_${randomBytes(6).toString("hex")}`, connectTimeoutMs: 30_000 })
      : await openSqliteStore({ path: join(dataDir, "accounts.db") });
  const sealer = options.sealer ?? testSealer();
  const { log, lines } = capturedLogger();
  let apiKey = options.keys?.apiKey ?? "";
  let otherApiKey = options.keys?.otherApiKey ?? "";
  if (options.seed !== false) {
    await createWorkspace(store, "alpha");
    await createWorkspace(store, "beta");
    apiKey = (await createApiKey(store, "alpha", "test")).token;
    otherApiKey = (await createApiKey(store, "beta", "test")).token;
  }
  // The production defaults (API-key cache included), but for what the test sets.
  const config = loadConfig({
    INTENT_TTL_MS: String(options.intentTtlMs ?? 60_000),
    ...(options.intentPollMs ? { INTENT_POLL_MS: String(options.intentPollMs) } : {}),
    ...(options.maxPendingIntents ? { MAX_PENDING_INTENTS: String(options.maxPendingIntents) } : {}),
    ...options.env,
  });
  const server = build({ ...config, transport: { ...config.transport, ...options.transport } }, { store, sealer, connectors: options.connectors ?? [], log });
  const ports = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0, metricsPort: options.metrics ? 0 : undefined });
  return {
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
    metricsUrl: ports.metricsPort === undefined ? undefined : `http://127.0.0.1:${ports.metricsPort}`,
    apiKey,
    otherApiKey,
    store,
    sealer,
    logs: lines,
    dataDir,
    server,
    async close() {
      await server.drain(1000);
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
