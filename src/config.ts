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
  /** How often a watch (and a follower of an intent) re-reads the intent from the store. */
  intentPollMs: number;
  /** How long an API key read from the store is trusted: a revocation (CLI, another replica) takes effect here within it. 0: every call reads it. */
  apiKeyCacheMs: number;
  /** Provider logins run in this process (WhatsApp, Telegram drivers): their limits, and Telegram's application credentials. */
  drivers: DriverConfig;
  /** The gateway process (npm run gateway): where it listens and the address it answers as its own. */
  gateway: { host: string; port: number; advertiseAddress: string | undefined };
  env: Record<string, string | undefined>;
}

export interface DriverConfig {
  /** DRIVER_MAX_PENDING_SESSIONS: logins not yet connected one process holds at most. */
  maxPendingSessions: number;
  /** DRIVER_SESSION_TTL_MS: the longest a login may wait for the person before its sockets are closed. */
  sessionTtlMs: number;
  /** TELEGRAM_API_ID + TELEGRAM_API_HASH; unset: Telegram answers feature_not_implemented naming them. */
  telegram: { apiId: number; apiHash: string } | undefined;
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
    intentPollMs: positiveInt(env, "INTENT_POLL_MS", 300),
    apiKeyCacheMs: nonNegativeInt(env, "API_KEY_CACHE_MS", DEFAULT_API_KEY_CACHE_MS),
    drivers: {
      maxPendingSessions: positiveInt(env, "DRIVER_MAX_PENDING_SESSIONS", 200),
      sessionTtlMs: positiveInt(env, "DRIVER_SESSION_TTL_MS", 600_000),
      telegram: telegramApp(env),
    },
    gateway: {
      host: env.GATEWAY_HOST || "127.0.0.1",
      port: port(env, "GATEWAY_PORT", 50061),
      advertiseAddress: env.GATEWAY_ADVERTISE_ADDRESS?.trim() || undefined,
    },
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
    // grpc-js takes host:port; a scheme would be read as part of the host name. Several replicas: comma-separated.
    for (const replica of value.split(",")) {
      const m = /^(?:[\w.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(replica.trim());
      if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new Error(`${name} must be host:port (plaintext HTTP/2), comma-separated for several replicas, got ${JSON.stringify(value)}`);
    }
    endpoints[provider] = value;
  }
  return endpoints;
}

/** Both or neither: one without the other is a mistake worth refusing at start. */
function telegramApp(env: Record<string, string | undefined>): DriverConfig["telegram"] {
  const id = env.TELEGRAM_API_ID?.trim();
  const hash = env.TELEGRAM_API_HASH?.trim();
  if (!id && !hash) return undefined;
  if (!id || !hash) throw new Error("TELEGRAM_API_ID and TELEGRAM_API_HASH must be set together");
  if (!/^[1-9]\d{0,11}$/.test(id)) throw new Error(`TELEGRAM_API_ID must be a positive integer, got ${JSON.stringify(id)}`);
  // Not echoed: the hash is a credential.
  if (!/^[0-9a-f]{32}$/i.test(hash)) throw new Error("TELEGRAM_API_HASH must be 32 hexadecimal characters");
  return { apiId: Number(id), apiHash: hash };
}
