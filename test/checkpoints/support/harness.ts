import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey, createWorkspace } from "../../../src/auth/workspaces.ts";
import type { Sealer } from "../../../src/crypto/sealer.ts";
import { gatewayConnectors, type GatewayConnector, type GatewayProvider } from "../../../src/domain/connectors/gateway/index.ts";
import type { AnyConnector } from "../../../src/domain/connectors/registry.ts";
import { build, type Server } from "../../../src/server.ts";
import { openPostgresStore } from "../../../src/store/postgres.ts";
import { openSqliteStore } from "../../../src/store/sqlite.ts";
import type { Store } from "../../../src/store/store.ts";
import { capturedLogger } from "../../support/logs.ts";
import { PG_URL, testSealer } from "../../support/server.ts";

export interface CheckpointServer {
  grpcAddress: string;
  httpUrl: string;
  /** Workspace "alpha". */
  apiKey: string;
  /** Workspace "beta". */
  otherApiKey: string;
  store: Store;
  sealer: Sealer;
  logs: string[];
  server: Server;
  gateways: GatewayConnector[];
  close(): Promise<void>;
}

export interface CheckpointServerOptions {
  /** GATEWAY_URL_<PROVIDER> as configuration would give them. */
  gateways?: Partial<Record<GatewayProvider, string>>;
  /** Connectors besides the gateways'. */
  connectors?: AnyConnector[];
  backend?: "sqlite" | "postgres";
  pgSchema?: string;
  sealer?: Sealer;
  /** false: the workspaces already exist (another replica created them); pass the keys in. */
  seed?: boolean;
  keys?: { apiKey: string; otherApiKey: string };
  intentTtlMs?: number;
  intentPollMs?: number;
}

/** The real server (src/server.ts build()) on ports 0, with gateway connectors built from configuration. */
export async function startCheckpointServer(options: CheckpointServerOptions = {}): Promise<CheckpointServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "ppa-cp-"));
  const store =
    options.backend === "postgres"
      ? await openPostgresStore({ connectionString: PG_URL, schema: options.pgSchema ?? `cp_${randomBytes(6).toString("hex")}` })
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
  const gateways = gatewayConnectors(options.gateways ?? {});
  const server = build({
    store,
    sealer,
    connectors: [...gateways, ...(options.connectors ?? [])],
    log,
    intentTtlMs: options.intentTtlMs ?? 60_000,
    intentPollMs: options.intentPollMs ?? 100,
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
    server,
    gateways,
    async close() {
      await server.drain(1000);
      for (const g of gateways) g.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
