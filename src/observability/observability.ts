import type { Logger } from "pino";
import type { ConnectorRegistry } from "../domain/connectors/registry.ts";
import type { Store } from "../store/store.ts";
import { createServiceHealth, type ServiceHealth } from "./health.ts";
import type { MetricsServer } from "./metrics-server.ts";
import type { Metrics, MetricsSink } from "./metrics.ts";
import { observedConnectors } from "./observed-connectors.ts";
import { observedStore, untracedStore } from "./observed-store.ts";

/** A store ping slower than this counts as a failure (the pg pool's own connect timeout). */
const HEALTH_PING_TIMEOUT_MS = 2_000;

/** What one server is observed through: its metrics, its instrumented store and connectors, its health. */
export interface Observability {
  /** Counts nothing until `listen` is given a metrics port. */
  readonly metrics: MetricsSink;
  /** The store to use everywhere: the same, counted and traced. */
  readonly store: Store;
  /** The same store, counted but never traced: for background work and stream polls. */
  readonly untracedStore: Store;
  readonly health: ServiceHealth;
  observeConnectors(registry: ConnectorRegistry): ConnectorRegistry;
  /** Starts following the store and, given a port, counts and serves GET /metrics on it; resolves with that port. Before the API listens, so every call is counted. */
  listen(metricsPort: number | undefined, host: string): Promise<number | undefined>;
  /** Stops the metrics server, once a drain is over (so the drain itself can be watched). */
  close(): Promise<void>;
}

export function createObservability(deps: { store: Store; log: Logger; healthCheckIntervalMs: number; now: () => Date }): Observability {
  // prom-client takes longer to import than grpc-js: a server without a metrics endpoint
  // never loads it, and reports to nothing.
  let prometheus: Metrics | undefined;
  let metricsServer: MetricsServer | undefined;
  const metrics: MetricsSink = {
    rpc: (method, transport, code, seconds) => prometheus?.rpc(method, transport, code, seconds),
    connector: (provider, operation, outcome, seconds) => prometheus?.connector(provider, operation, outcome, seconds),
    storeError: (operation, errorType) => prometheus?.storeError(operation, errorType),
    storeUp: (up) => prometheus?.storeUp(up),
    credentialsRead: (kind, outcome, refreshed) => prometheus?.credentialsRead(kind, outcome, refreshed),
  };
  const store = observedStore(deps.store, metrics);
  const health = createServiceHealth({ ping: () => store.ping(), intervalMs: deps.healthCheckIntervalMs, timeoutMs: HEALTH_PING_TIMEOUT_MS, log: deps.log });
  health.onChange(() => metrics.storeUp(health.reason !== "store_unreachable"));
  return {
    metrics,
    store,
    untracedStore: untracedStore(store),
    health,
    observeConnectors: (registry) => observedConnectors(registry, metrics),
    async listen(metricsPort, host) {
      health.start();
      if (metricsPort === undefined) return undefined;
      const [{ createMetrics }, { createMetricsServer }] = await Promise.all([import("./metrics.ts"), import("./metrics-server.ts")]);
      const started = createMetrics();
      // Not asked of a store known to be down: a scrape would wait for its timeout.
      started.countOpenIntentsWith(() => (health.reason === "store_unreachable" ? Promise.resolve(undefined) : store.countOpenIntents(deps.now()).catch(() => undefined)));
      started.storeUp(health.reason !== "store_unreachable");
      prometheus = started;
      metricsServer = createMetricsServer(started, deps.log);
      return metricsServer.listen(metricsPort, host);
    },
    async close() {
      await metricsServer?.close();
      metricsServer = undefined;
    },
  };
}
