import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
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
}

export function testSealer(): Sealer {
  return createSealer(parseKeyring(`test:${randomBytes(32).toString("base64")}`));
}

/** The real server on ports 0 over a real store, with two workspaces and their keys. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "ppa-test-"));
  const store =
    options.backend === "postgres"
      ? await openPostgresStore({ connectionString: PG_URL, schema: options.pgSchema ?? `t_${randomBytes(6).toString("hex")}` })
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
  const server = build({
    store,
    sealer,
    connectors: options.connectors ?? [],
    log,
    intentTtlMs: options.intentTtlMs ?? 60_000,
    ...(options.intentPollMs ? { intentPollMs: options.intentPollMs } : {}),
    ...(options.maxPendingIntents ? { maxPendingIntents: options.maxPendingIntents } : {}),
  });
  const ports = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0 });
  return {
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    httpUrl: `http://127.0.0.1:${ports.httpPort}`,
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
