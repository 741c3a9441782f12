import { resolve } from "node:path";

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
  env: Record<string, string | undefined>;
}

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
