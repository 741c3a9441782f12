import type { Logger } from "pino";
import type { ConnectorRegistry } from "../domain/connectors/registry.ts";
import type { Store } from "../store/store.ts";
import { createServiceHealth, type ServiceHealth } from "./health.ts";
import { createMetricsServer } from "./metrics-server.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { observedConnectors } from "./observed-connectors.ts";
import { observedStore } from "./observed-store.ts";

/** A store ping slower than this counts as a failure (the pg pool's own connect timeout). */
const HEALTH_PING_TIMEOUT_MS = 2_000;

/** What one server is observed through: its metrics, its instrumented store and connectors, its health. */
export interface Observability {
  readonly metrics: Metrics;
  /** The store to use everywhere: the same, counted and traced. */
  readonly store: Store;
  readonly health: ServiceHealth;
  observeConnectors(registry: ConnectorRegistry): ConnectorRegistry;
  /** Starts following the store and, given a port, serves GET /metrics on it; resolves with that port. */
  listen(metricsPort: number | undefined, host: string): Promise<number | undefined>;
  /** Stops the metrics server, once a drain is over (so the drain itself can be watched). */
  close(): Promise<void>;
}

export function createObservability(deps: { store: Store; log: Logger; healthCheckIntervalMs: number; now: () => Date }): Observability {
  const metrics = createMetrics();
  const store = observedStore(deps.store, metrics);
  const health = createServiceHealth({ ping: () => store.ping(), intervalMs: deps.healthCheckIntervalMs, timeoutMs: HEALTH_PING_TIMEOUT_MS, log: deps.log });
  health.onChange(() => metrics.storeUp(health.reason !== "store_unreachable"));
  // Not asked of a store known to be down: a scrape would wait for its timeout.
  metrics.countOpenIntentsWith(() => (health.reason === "store_unreachable" ? Promise.resolve(undefined) : store.countOpenIntents(deps.now()).catch(() => undefined)));
  const metricsServer = createMetricsServer(metrics, deps.log);
  let serving = false;
  return {
    metrics,
    store,
    health,
    observeConnectors: (registry) => observedConnectors(registry, metrics),
    async listen(metricsPort, host) {
      health.start();
      if (metricsPort === undefined) return undefined;
      metrics.collectProcessMetrics();
      const port = await metricsServer.listen(metricsPort, host);
      serving = true;
      return port;
    },
    async close() {
      if (serving) await metricsServer.close();
      serving = false;
    },
  };
}
