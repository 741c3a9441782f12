import { resolve } from "node:path";
import { GATEWAY_PROVIDERS, type GatewayProvider } from "./domain/connectors/gateway/providers.ts";

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
  /** The safety net: how often a replica re-reads the open intents it tracks, whatever notifications said. */
  intentPollMs: number;
  /** How often each replica sweeps abandoned intents (expired, nobody tracking them); 0: never. */
  intentSweepMs: number;
  /** Open intents (connections in progress) a workspace may have at once. */
  maxPendingIntents: number;
  /** How long an API key read from the store is trusted: a revocation (CLI, another replica) takes effect here within it. 0: every call reads it. */
  apiKeyCacheMs: number;
  env: Record<string, string | undefined>;
}

export const DEFAULT_API_KEY_CACHE_MS = 5_000;

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
    intentPollMs: positiveInt(env, "INTENT_POLL_MS", 15_000),
    intentSweepMs: nonNegativeInt(env, "INTENT_SWEEP_MS", 30_000),
    maxPendingIntents: positiveInt(env, "MAX_PENDING_INTENTS", 1_000),
    apiKeyCacheMs: nonNegativeInt(env, "API_KEY_CACHE_MS", DEFAULT_API_KEY_CACHE_MS),
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
