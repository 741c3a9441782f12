import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Every metric of ours starts with this, so a shared Prometheus tells them from other services'. */
const PREFIX = "postpress_accounts_";

/** Seconds. From a cache hit (~1 ms) to a provider login near the longest deadline (2 min). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one),
 * so that several servers in one process (tests, replicas) never mix their counts.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One answered RPC; `code` is the gRPC code name as the per-RPC log line writes it ("OK", "NotFound", ...). */
  rpc(method: string, transport: string, code: string, seconds: number): void;
  /** One call to a provider connector; `outcome` is "ok" or the catalogue kind it failed with. */
  connector(provider: string, operation: string, outcome: string, seconds: number): void;
  /** One failed store operation; `errorType` is the catalogue kind ("service_unavailable", ...). */
  storeError(operation: string, errorType: string): void;
  /** One GetCredentials read: the kind of credentials ("mail", "oauth", "provider_session", "unknown" before the account was read), "ok" or the catalogue kind it failed with, and whether a token refresh was made for it. */
  credentialsRead(kind: string, outcome: string, refreshed: boolean): void;
  /** Whether the last health ping reached the store. */
  storeUp(up: boolean): void;
  /** How the open intents gauge is read at each scrape (it asks the store: every replica sees the same intents). */
  countOpenIntentsWith(count: () => Promise<number | undefined>): void;
}

/** What the call pipeline, the store and the connectors report to. */
export type MetricsSink = Pick<Metrics, "rpc" | "connector" | "storeError" | "storeUp" | "credentialsRead">;

/** Loaded (with prom-client, slow to import) only when the metrics endpoint is on: see observability.ts. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  // The process metrics (CPU, memory, file descriptors, event loop lag, GC).
  collectDefaultMetrics({ register: registry });
  const rpcCalls = new Counter({
    name: `${PREFIX}rpc_requests_total`,
    help: "RPCs answered, by method, transport (grpc, connect, grpc-web) and gRPC code.",
    labelNames: ["method", "transport", "code"] as const,
    registers: [registry],
  });
  const rpcSeconds = new Histogram({
    name: `${PREFIX}rpc_duration_seconds`,
    help: "Time from a call's arrival to its answer, by method, transport and gRPC code.",
    labelNames: ["method", "transport", "code"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const connectorCalls = new Counter({
    name: `${PREFIX}connector_calls_total`,
    help: "Calls to provider connectors, by provider, operation and outcome (ok, or the error type).",
    labelNames: ["provider", "operation", "outcome"] as const,
    registers: [registry],
  });
  const connectorSeconds = new Histogram({
    name: `${PREFIX}connector_duration_seconds`,
    help: "Time a provider connector took, by provider and operation.",
    labelNames: ["provider", "operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: `${PREFIX}store_errors_total`,
    help: "Store operations that failed, by operation and error type.",
    labelNames: ["operation", "error_type"] as const,
    registers: [registry],
  });
  const credentialReads = new Counter({
    name: `${PREFIX}credential_reads_total`,
    help: "GetCredentials reads, by kind (mail, oauth, provider_session), outcome (ok, or the error type) and whether the access token was refreshed for it.",
    labelNames: ["kind", "outcome", "refreshed"] as const,
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: `${PREFIX}store_up`,
    help: "1 when the last health ping reached the store, else 0.",
    registers: [registry],
  });
  storeUp.set(1);
  let countOpenIntents: () => Promise<number | undefined> = async () => undefined;
  new Gauge({
    name: `${PREFIX}open_intents`,
    help: "Authentication intents open (not ended, not expired) in the store, all replicas together.",
    registers: [registry],
    async collect() {
      const count = await countOpenIntents();
      // NaN (unknown) while the store cannot be reached, rather than a false 0.
      this.set(count ?? Number.NaN);
    },
  });

  return {
    registry,
    rpc(method, transport, code, seconds) {
      rpcCalls.inc({ method, transport, code });
      rpcSeconds.observe({ method, transport, code }, seconds);
    },
    connector(provider, operation, outcome, seconds) {
      connectorCalls.inc({ provider, operation, outcome });
      connectorSeconds.observe({ provider, operation }, seconds);
    },
    storeError(operation, errorType) {
      storeErrors.inc({ operation, error_type: errorType });
    },
    credentialsRead(kind, outcome, refreshed) {
      credentialReads.inc({ kind, outcome, refreshed: String(refreshed) });
    },
    storeUp(up) {
      storeUp.set(up ? 1 : 0);
    },
    countOpenIntentsWith(count) {
      countOpenIntents = count;
    },
  };
}
