import { resolve } from "node:path";
import { GATEWAY_PROVIDERS, type GatewayProvider } from "./domain/connectors/gateway/providers.ts";
import type { OtlpProtocol } from "./observability/tracing.ts";

export interface Config {
  host: string;
  grpcPort: number;
  httpPort: number;
  dataDir: string;
  /** PostgreSQL when set; otherwise the embedded SQLite store under dataDir. */
  databaseUrl: string | undefined;
  /** NODE_ENV=production: no generated dev keys, no bootstrap API key file. */
  production: boolean;
  logLevel: string;
  /** How long in-flight calls get to finish on SIGTERM/SIGINT. */
  drainTimeoutMs: number;
  intentTtlMs: number;
  /** Provider-session gateways (GATEWAY_URL_<PROVIDER>, host:port): a provider without one answers feature_not_implemented. */
  gateways: Partial<Record<GatewayProvider, string>>;
  /** How often a watch (and a follower of an intent) re-reads the intent from the store. */
  intentPollMs: number;
  /** How long an API key read from the store is trusted: a revocation (CLI, another replica) takes effect here within it. 0: every call reads it. */
  apiKeyCacheMs: number;
  /** The admin port of GET /metrics (Prometheus); undefined: no metrics endpoint. */
  metricsPort: number | undefined;
  /** How often the store is pinged: health is NOT_SERVING while it cannot be reached. */
  healthCheckIntervalMs: number;
  /** OTLP trace export (standard OTEL_* variables); undefined: tracing off. */
  tracing: { protocol: OtlpProtocol } | undefined;
  env: Record<string, string | undefined>;
}

export const DEFAULT_API_KEY_CACHE_MS = 5_000;
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 5_000;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return {
    host: env.HOST || "127.0.0.1",
    grpcPort: port(env, "GRPC_PORT", 50051),
    httpPort: port(env, "HTTP_PORT", 8080),
    dataDir: resolve(env.DATA_DIR || "./data"),
    databaseUrl: env.DATABASE_URL || undefined,
    production: env.NODE_ENV === "production",
    logLevel: env.LOG_LEVEL || "info",
    drainTimeoutMs: positiveInt(env, "DRAIN_TIMEOUT_MS", 10_000),
    intentTtlMs: positiveInt(env, "INTENT_TTL_MS", 120_000),
    gateways: gatewayEndpoints(env),
    intentPollMs: positiveInt(env, "INTENT_POLL_MS", 300),
    apiKeyCacheMs: nonNegativeInt(env, "API_KEY_CACHE_MS", DEFAULT_API_KEY_CACHE_MS),
    metricsPort: env.METRICS_PORT === undefined || env.METRICS_PORT === "" ? undefined : port(env, "METRICS_PORT", 0),
    healthCheckIntervalMs: positiveInt(env, "HEALTH_CHECK_INTERVAL_MS", DEFAULT_HEALTH_CHECK_INTERVAL_MS),
    tracing: tracingConfig(env),
    env,
  };
}

function port(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name] === undefined || env[name] === "" ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number (0-65535), got ${JSON.stringify(env[name])}`);
  return value;
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name] === undefined || env[name] === "" ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(env[name])}`);
  return value;
}

function nonNegativeInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const value = env[name] === undefined || env[name] === "" ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(env[name])}`);
  return value;
}

/** GATEWAY_URL_LINKEDIN=host:port, ...: plaintext HTTP/2 endpoints of provider-session gateways. */
function gatewayEndpoints(env: Record<string, string | undefined>): Partial<Record<GatewayProvider, string>> {
  const endpoints: Partial<Record<GatewayProvider, string>> = {};
  for (const provider of Object.keys(GATEWAY_PROVIDERS) as GatewayProvider[]) {
    const name = `GATEWAY_URL_${provider}`;
    const value = env[name]?.trim();
    if (!value) continue;
    // grpc-js takes host:port; a scheme would be read as part of the host name.
    const m = /^(?:[\w.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(value);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new Error(`${name} must be host:port (plaintext HTTP/2), got ${JSON.stringify(value)}`);
    endpoints[provider] = value;
  }
  return endpoints;
}

/**
 * Tracing is off unless asked for, the OpenTelemetry way: OTEL_TRACES_EXPORTER=otlp, or an OTLP
 * endpoint set. OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keep it off regardless.
 */
function tracingConfig(env: Record<string, string | undefined>): { protocol: OtlpProtocol } | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((e) => e.trim()).filter((e) => e !== "");
  const unsupported = exporters.filter((e) => e !== "otlp" && e !== "none");
  if (unsupported.length > 0) throw new Error(`OTEL_TRACES_EXPORTER must be otlp or none, got ${JSON.stringify(env.OTEL_TRACES_EXPORTER)}`);
  if (exporters.includes("none")) return undefined;
  if (exporters.length === 0 && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = env[name] || "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") throw new Error(`${name} must be http/protobuf or http/json (OTLP over gRPC is not supported), got ${JSON.stringify(protocol)}`);
  return { protocol };
}
