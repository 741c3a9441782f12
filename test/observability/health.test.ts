import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logging.ts";
import { createServiceHealth } from "../../src/observability/health.ts";
import { withProbes } from "../../src/observability/probes.ts";
import { build, type Server } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { seedWorkspaces } from "../accounts/replicas.ts";
import { startTcpProxy, type TcpProxy } from "../accounts/tcp-proxy.ts";
import { healthCheck, watchHealth } from "../e2e/health.ts";
import { capturedLogger } from "../support/logs.ts";
import { PG_URL, dropSchema, uniqueSchema } from "../support/pg.ts";
import { scrape, valueOf } from "../support/prometheus.ts";
import { startTestServer, testSealer } from "../support/server.ts";

const ACCOUNTS = "postpress.accounts.v1.AccountService";
/** Long enough for any busy machine to notice a store that went away (pings run every 100 ms). */
const NOTICE = { timeout: 15_000, interval: 50 };

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The server on PostgreSQL through a TCP proxy the test can cut, pinging the store every 100 ms. */
describe("health follows the store", () => {
  const schema = uniqueSchema("health");
  let proxy: TcpProxy;
  let store: Store;
  let server: Server;
  let grpcAddress: string;
  let httpUrl: string;
  let metricsUrl: string;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(PG_URL).port || 5432) });
    const url = new URL(PG_URL);
    url.port = String(proxy.port);
    store = await openPostgresStore({ connectionString: url.toString(), schema, statementTimeoutMs: 2_000 });
    await seedWorkspaces(store);
    server = build(loadConfig({ HEALTH_CHECK_INTERVAL_MS: "100" }), { store, sealer: testSealer(), connectors: [], log: capturedLogger().log });
    const ports = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0, metricsPort: 0 });
    grpcAddress = `127.0.0.1:${ports.grpcPort}`;
    httpUrl = `http://127.0.0.1:${ports.httpPort}`;
    metricsUrl = `http://127.0.0.1:${ports.metricsPort}`;
  });
  afterAll(async () => {
    proxy?.restore();
    await server?.drain(1_000);
    await store?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  it("NOT_SERVING on gRPC health and readiness while PostgreSQL is cut, SERVING again once it is back", async () => {
    expect(await healthCheck(grpcAddress)).toBe("SERVING");
    expect(await probe(`${httpUrl}/readyz`)).toEqual({ status: 200, body: { status: "SERVING" } });
    const watch = watchHealth(grpcAddress);
    await expect.poll(() => watch.statuses, NOTICE).toEqual(["SERVING"]);

    proxy.cut();
    await expect.poll(() => healthCheck(grpcAddress), NOTICE).toBe("NOT_SERVING");
    expect(await healthCheck(grpcAddress, ACCOUNTS)).toBe("NOT_SERVING");
    expect(await probe(`${httpUrl}/readyz`)).toEqual({ status: 503, body: { status: "NOT_SERVING", reason: "store_unreachable" } });
    // Liveness is about the process, which is fine: restarting it would not bring the database back.
    expect(await probe(`${httpUrl}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    const down = await scrape(metricsUrl);
    expect(valueOf(down, "postpress_accounts_store_up")).toBe(0);
    expect(valueOf(down, "postpress_accounts_store_errors_total", { operation: "ping", error_type: "service_unavailable" })).toBeGreaterThan(0);
    expect(valueOf(down, "postpress_accounts_open_intents")).toBeNaN();

    proxy.restore();
    await expect.poll(() => healthCheck(grpcAddress), NOTICE).toBe("SERVING");
    expect(await healthCheck(grpcAddress, ACCOUNTS)).toBe("SERVING");
    expect(await probe(`${httpUrl}/readyz`)).toEqual({ status: 200, body: { status: "SERVING" } });
    expect(valueOf(await scrape(metricsUrl), "postpress_accounts_store_up")).toBe(1);

    // The watch heard each change once, in order.
    await expect.poll(() => watch.statuses, NOTICE).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
    watch.cancel();
  });
});

describe("health while draining", () => {
  it("a Health/Watch stream hears NOT_SERVING and ends at once: it does not hold the drain", async () => {
    const server = await startTestServer();
    const watch = watchHealth(server.grpcAddress);
    const unknown = watchHealth(server.grpcAddress, "no.such.Service");
    await expect.poll(() => [watch.statuses, unknown.statuses], NOTICE).toEqual([["SERVING"], ["SERVICE_UNKNOWN"]]);

    const started = performance.now();
    await server.server.drain(30_000);
    const tookMs = performance.now() - started;
    expect(await watch.ended).toBe(0);
    expect(await unknown.ended).toBe(0);
    expect(watch.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    // Far below the 30 s grace a held watch would cost, with room for a loaded machine.
    expect(tookMs).toBeLessThan(15_000);
    await server.close();
  });

  it("readiness is 503 (draining) once the drain has begun, liveness stays 200", async () => {
    const health = createServiceHealth({ ping: async () => {}, intervalMs: 60_000, timeoutMs: 1_000, log: createLogger({ level: "silent" }) });
    const http: HttpServer = createServer(withProbes(health, (_req, res) => {
      res.statusCode = 418;
      res.end();
    }));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      expect((await probe(`${base}/readyz`)).status).toBe(200);
      health.drain();
      expect(await probe(`${base}/readyz`)).toEqual({ status: 503, body: { status: "NOT_SERVING", reason: "draining" } });
      expect(await probe(`${base}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
      // Anything else goes to the API handler.
      expect((await fetch(`${base}/postpress.accounts.v1.AccountService/GetAccount`)).status).toBe(418);
      expect((await fetch(`${base}/readyz`, { method: "POST" })).status).toBe(405);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
