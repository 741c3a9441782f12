import { resolve } from "node:path";
import { KEY_ID, parseKeyring } from "./crypto/keyring.ts";
import { GATEWAY_PROVIDERS, type GatewayProvider } from "./domain/connectors/gateway/providers.ts";
import { cidrList, hostPort, hostPorts, integer, Invalid, NON_NEGATIVE_MS, oneOf, originList, PORT, POSITIVE_MS, setting, url, type Setting } from "./config/setting.ts";
import { credentialsSchema } from "./config/credentials.ts";
import { driversSchema, webDriversSchema } from "./config/drivers.ts";
import { pemFile } from "./config/pem-file.ts";
import { providerIntervals } from "./config/provider-intervals.ts";
import { tracingProblem, tracingSchema } from "./config/tracing.ts";
import { readTree, type Parsed, type Problem, type SettingTree } from "./config/tree.ts";

/**
 * The whole configuration: every environment variable the service and the CLI read, with
 * its default and meaning. Parsed once, at start-up, before anything is opened or written;
 * nothing else reads process.env. Adding a setting is one entry here (its `--help` line,
 * its error message and its type in Config follow from it).
 */
export const schema = {
  listen: {
    host: setting({ env: "HOST", default: "127.0.0.1", doc: "bind address of both ports", accepted: "a host name or IP address", parse: (v) => v }),
    grpcPort: setting({ env: "GRPC_PORT", default: "50051", doc: "native gRPC, reflection and grpc.health.v1", ...PORT }),
    httpPort: setting({ env: "HTTP_PORT", default: "8080", doc: "Connect (JSON and binary) and gRPC-Web, HTTP/1.1 and h2c", ...PORT }),
    metricsPort: setting({ env: "METRICS_PORT", doc: "admin port of GET /metrics (Prometheus); unset: no metrics endpoint", ...PORT }),
  },
  store: {
    dataDir: setting({ env: "DATA_DIR", default: "./data", doc: "embedded store, development sealing key, first API key", accepted: "a directory path", parse: (v) => resolve(v) }),
    databaseUrl: setting({
      env: "DATABASE_URL",
      doc: "PostgreSQL; when set, used instead of the embedded store",
      accepted: "a PostgreSQL URL, postgres://user:password@host:port/database",
      parse: url(["postgres:", "postgresql:"]),
      secret: true,
    }),
    connectTimeoutMs: setting({
      env: "DATABASE_CONNECT_TIMEOUT_MS",
      default: "2000",
      doc: "PostgreSQL: longest wait for a connection, a new one or a free one of the pool (10) when all are busy; then service_unavailable",
      ...POSITIVE_MS,
    }),
  },
  production: setting({
    env: "NODE_ENV",
    default: "development",
    doc: "production: SEALING_KEYS required, no development key, no first API key file",
    accepted: "any value (only production changes anything)",
    parse: (v) => v === "production",
  }),
  sealing: {
    keys: setting({
      env: "SEALING_KEYS",
      doc: "keyring that seals stored secrets (unset outside production: a development key in DATA_DIR)",
      accepted: "<keyId>:<base64 of 32 random bytes>[,<keyId>:<key>...], e.g. k2025:$(openssl rand -base64 32)",
      secret: true,
      parse: (v) => {
        try {
          return parseKeyring(v);
        } catch (e) {
          throw new Invalid((e as Error).message); // names ids and positions, never key material
        }
      },
    }),
    activeKey: setting({
      env: "SEALING_ACTIVE_KEY",
      doc: "key id new secrets are sealed with (default: the last one listed)",
      accepted: "one of the key ids in SEALING_KEYS",
      secret: true,
      parse: (v) => {
        if (!KEY_ID.test(v)) throw new Invalid("not a key id");
        return v;
      },
    }),
  },
  log: {
    level: setting({ env: "LOG_LEVEL", default: "info", doc: "lowest level logged", ...oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]) }),
    format: setting({
      env: "LOG_FORMAT",
      default: "json",
      doc: "json: one JSON object a line; pretty: coloured lines for a terminal (needs the dev dependencies)",
      ...oneOf(["json", "pretty"]),
    }),
  },
  drainTimeoutMs: setting({ env: "DRAIN_TIMEOUT_MS", default: "10000", doc: "on SIGTERM/SIGINT: how long in-flight calls get before the server exits", ...POSITIVE_MS }),
  intents: {
    ttlMs: setting({ env: "INTENT_TTL_MS", default: "120000", doc: "how long an unfinished connection attempt blocks its identity if its process dies", ...POSITIVE_MS }),
    pollMs: setting({ env: "INTENT_POLL_MS", default: "15000", doc: "the safety net: how often a replica re-reads the open intents it tracks, whatever notifications said (changes arrive by notification first)", ...POSITIVE_MS }),
    sweepMs: setting({ env: "INTENT_SWEEP_MS", default: "30000", doc: "how often each replica closes abandoned intents (expired, nobody tracking them); 0: never", ...NON_NEGATIVE_MS }),
    maxPending: setting({ env: "MAX_PENDING_INTENTS", default: "1000", doc: "open intents (connections in progress) one workspace may have at once; beyond: errors/too_many_pending_intents", accepted: "a positive whole number", parse: integer(1) }),
  },
  auth: {
    apiKeyCacheMs: setting({ env: "API_KEY_CACHE_MS", default: "5000", doc: "how long a replica trusts an API key read from the store (a revocation takes this long)", ...NON_NEGATIVE_MS }),
  },
  healthChecks: {
    pollMs: setting({ env: "ACCOUNT_CHECK_POLL_MS", default: "5000", doc: "how often a replica looks for accounts due a health check (0: this replica checks none)", ...NON_NEGATIVE_MS }),
    intervalMs: setting({ env: "ACCOUNT_CHECK_INTERVAL_MS", default: "3600000", doc: "time between two health checks of an account (re-verification with its provider)", ...POSITIVE_MS }),
    providerIntervalsMs: setting({
      env: "ACCOUNT_CHECK_INTERVALS",
      doc: "per-provider intervals overriding ACCOUNT_CHECK_INTERVAL_MS, e.g. MAIL=900000,GOOGLE_OAUTH=3600000",
      accepted: "comma-separated PROVIDER=milliseconds pairs (providers as in the Provider enum, without PROVIDER_)",
      parse: providerIntervals,
    }),
    jitter: setting({ env: "ACCOUNT_CHECK_JITTER_PERCENT", default: "10", doc: "each interval is shortened or lengthened at random by up to this share, so checks spread out", accepted: "a whole percentage, 0-50", parse: integer(0, 50) }),
    concurrency: setting({ env: "ACCOUNT_CHECK_CONCURRENCY", default: "4", doc: "health checks one replica runs at once", accepted: "a whole number, 1-100", parse: integer(1, 100) }),
    errorAfter: setting({ env: "ACCOUNT_CHECK_ERROR_AFTER", default: "3", doc: "transient failures in a row (unreachable, timeouts, 5xx) that turn an account ERROR; a refusal turns it CREDENTIALS_EXPIRED at once", accepted: "a whole number, 1-100", parse: integer(1, 100) }),
    timeoutMs: setting({ env: "ACCOUNT_CHECK_TIMEOUT_MS", default: "30000", doc: "longest one health check may take", ...POSITIVE_MS }),
  },
  events: {
    pollMs: setting({ env: "EVENTS_POLL_MS", default: "500", doc: "how often an open StreamEvents stream looks for new events (written by any replica)", ...POSITIVE_MS }),
  },
  webhooks: {
    pollMs: setting({ env: "WEBHOOK_POLL_MS", default: "1000", doc: "how often a replica looks for webhook deliveries due (0: this replica delivers none)", ...NON_NEGATIVE_MS }),
    concurrency: setting({ env: "WEBHOOK_CONCURRENCY", default: "8", doc: "webhook POSTs one replica has in flight at once", accepted: "a whole number, 1-100", parse: integer(1, 100) }),
    timeoutMs: setting({ env: "WEBHOOK_TIMEOUT_MS", default: "10000", doc: "longest wait for a webhook endpoint's answer", ...POSITIVE_MS }),
    retryForMs: setting({ env: "WEBHOOK_RETRY_FOR_MS", default: "86400000", doc: "how long a failing delivery is retried (exponential backoff with jitter) before it fails and its endpoint is disabled", ...POSITIVE_MS }),
  },
  health: {
    checkIntervalMs: setting({ env: "HEALTH_CHECK_INTERVAL_MS", default: "5000", doc: "how often the store is pinged; health (gRPC, /readyz) is NOT_SERVING while it cannot be reached", ...POSITIVE_MS }),
  },
  tracing: tracingSchema,
  transport: {
    corsAllowedOrigins: setting({
      env: "CORS_ALLOWED_ORIGINS",
      doc: "origins whose pages may call the HTTP port (Connect, gRPC-Web, REST); others are refused errors/origin_not_allowed; unset: none",
      ...originList,
    }),
    handshakeTimeoutMs: setting({ env: "HANDSHAKE_TIMEOUT_MS", default: "5000", doc: "a new connection must send its first request (HTTP/1.1 headers, or an HTTP/2 session's first stream) within this", ...POSITIVE_MS }),
    idleTimeoutMs: setting({ env: "IDLE_TIMEOUT_MS", default: "300000", doc: "a connection with no call in flight is closed after this (both ports)", ...POSITIVE_MS }),
    maxConcurrentStreams: setting({ env: "HTTP2_MAX_CONCURRENT_STREAMS", default: "100", doc: "concurrent streams one HTTP/2 connection may open (both ports)", accepted: "a positive whole number", parse: integer(1) }),
    maxResetsPerConnection: setting({ env: "HTTP2_MAX_RESETS", default: "100", doc: "streams a client may cancel per HTTP/2 connection before GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487)", accepted: "a positive whole number", parse: integer(1) }),
    maxConnectionAgeMs: setting({ env: "GRPC_MAX_CONNECTION_AGE_MS", default: "1800000", doc: "gRPC port: a connection is asked to reconnect (GOAWAY) after this long, so load rebalances", ...POSITIVE_MS }),
    keepaliveTimeMs: setting({ env: "GRPC_KEEPALIVE_TIME_MS", default: "120000", doc: "gRPC port: a connection silent this long is pinged, and dropped if the ping goes unanswered", ...POSITIVE_MS }),
  },
  gateways: Object.fromEntries(
    (Object.keys(GATEWAY_PROVIDERS) as GatewayProvider[]).map((provider) => [
      provider,
      setting({
        env: `GATEWAY_URL_${provider}`,
        doc: `${provider}'s provider-session gateway (its replicas comma-separated); unset: its variants run in this process`,
        accepted: "host:port (plaintext HTTP/2 gRPC, no scheme), comma-separated for several replicas",
        parse: hostPorts,
      }),
    ]),
  ) as Record<GatewayProvider, Setting<string | undefined>>,
  providers: {
    allowedNetworks: setting({
      env: "PROVIDER_ALLOWED_NETWORKS",
      doc: "internal networks that mail servers, provider APIs, proxies and webhook receivers may be reached on anyway (loopback, private, link-local are refused otherwise); webhooks may use http:// only to these",
      ...cidrList,
    }),
  },
  mail: {
    extraCaPem: setting({ env: "MAIL_EXTRA_CA_FILE", doc: "extra CAs trusted for IMAP/SMTP (self-hosted mail servers)", accepted: "a readable PEM file of CA certificates", parse: pemFile }),
    connectTimeoutMs: setting({ env: "MAIL_CONNECT_TIMEOUT_MS", default: "15000", doc: "per-protocol limit for TCP + TLS + greeting (the request deadline applies too)", ...POSITIVE_MS }),
  },
  oauth: {
    google: {
      apiBaseUrl: setting({ env: "GOOGLE_API_BASE_URL", default: "https://gmail.googleapis.com", doc: "base of the Gmail API", accepted: "an http(s) URL", parse: url(["https:", "http:"], { base: true }), secret: true }),
      tokenUrl: setting({ env: "GOOGLE_TOKEN_URL", default: "https://oauth2.googleapis.com/token", doc: "Google's OAuth token endpoint", accepted: "an http(s) URL", parse: url(["https:", "http:"]), secret: true }),
      clientId: setting({ env: "GOOGLE_CLIENT_ID", doc: "this server's Google OAuth client (needed to refresh tokens)", accepted: "a client id", parse: (v) => v }),
      clientSecret: setting({ env: "GOOGLE_CLIENT_SECRET", doc: "its secret", accepted: "a client secret", parse: (v) => v, secret: true }),
    },
    microsoft: {
      graphBaseUrl: setting({ env: "MICROSOFT_GRAPH_BASE_URL", default: "https://graph.microsoft.com", doc: "base of Microsoft Graph", accepted: "an http(s) URL", parse: url(["https:", "http:"], { base: true }), secret: true }),
      tokenUrl: setting({ env: "MICROSOFT_TOKEN_URL", default: "https://login.microsoftonline.com/common/oauth2/v2.0/token", doc: "Microsoft's OAuth token endpoint", accepted: "an http(s) URL", parse: url(["https:", "http:"]), secret: true }),
      clientId: setting({ env: "MICROSOFT_CLIENT_ID", doc: "this server's Microsoft OAuth client (needed to refresh tokens)", accepted: "a client id", parse: (v) => v }),
      clientSecret: setting({ env: "MICROSOFT_CLIENT_SECRET", doc: "its secret", accepted: "a client secret", parse: (v) => v, secret: true }),
    },
    requestTimeoutMs: setting({ env: "OAUTH_REQUEST_TIMEOUT_MS", default: "10000", doc: "longest wait for one Google or Microsoft call (the request deadline applies too)", ...POSITIVE_MS }),
    maxResponseBytes: setting({ env: "OAUTH_MAX_RESPONSE_BYTES", default: "1048576", doc: "larger provider answers are refused", accepted: "a whole number of bytes (at least 1024)", parse: integer(1024) }),
  },
  credentials: credentialsSchema,
  drivers: driversSchema,
  webDrivers: webDriversSchema,
};

/** The gateway process (npm run gateway) alone: where it listens and the address it answers as its own. */
export const gatewayListen = {
  host: setting({ env: "GATEWAY_HOST", default: "127.0.0.1", doc: "npm run gateway: bind address", accepted: "a host name or IP address", parse: (v) => v }),
  port: setting({ env: "GATEWAY_PORT", default: "50061", doc: "npm run gateway: its ProviderGatewayService port", ...PORT }),
  advertiseAddress: setting({
    env: "GATEWAY_ADVERTISE_ADDRESS",
    doc: "npm run gateway: the host:port this replica answers as its own (replica_address), reachable by the servers (unset: the bound host:port)",
    accepted: "host:port",
    parse: hostPorts,
  }),
};

/** What the gateway process reads: the logger, the drivers it hosts and where it listens. */
export const gatewaySchema = { log: schema.log, drivers: schema.drivers, webDrivers: schema.webDrivers, providers: schema.providers, listen: gatewayListen };

export type Config = Parsed<typeof schema>;
export type GatewayConfig = Parsed<typeof gatewaySchema>;
/** The provider drivers' limits and Telegram's application credentials. */
export type DriverConfig = Config["drivers"];
/** Where the web drivers find each provider (tests point them at local servers), and their bounds. */
export type WebDriversConfig = Config["webDrivers"];
/** Connection limits and timeouts of both ports, and the origins browsers may call from. */
export type TransportSettings = Config["transport"];

/** Rules between settings both processes read. */
const sharedChecks: ((c: Pick<GatewayConfig, "log" | "drivers">) => Problem | undefined)[] = [
  (c) =>
    (c.drivers.telegram.apiId === undefined) !== (c.drivers.telegram.apiHash === undefined)
      ? {
          variable: c.drivers.telegram.apiId === undefined ? "TELEGRAM_API_ID" : "TELEGRAM_API_HASH",
          accepted: "both of Telegram's application id and hash, or neither",
          message: "TELEGRAM_API_ID and TELEGRAM_API_HASH must be set together",
        }
      : undefined,
  (c) =>
    c.log.format === "pretty" && !resolvable("pino-pretty")
      ? { variable: "LOG_FORMAT", accepted: "json (pretty needs the dev dependencies: npm ci without --omit=dev)", message: "LOG_FORMAT=pretty needs pino-pretty, a dev dependency, which is not installed" }
      : undefined,
];

/** Rules between the server's settings, checked once every setting has parsed. */
const serverChecks: ((c: Config) => Problem | undefined)[] = [
  (c) =>
    c.production && !c.sealing.keys
      ? { variable: "SEALING_KEYS", accepted: schema.sealing.keys.accepted, message: "SEALING_KEYS is required in production (NODE_ENV=production): the development key file is never used there" }
      : undefined,
  (c) =>
    c.sealing.activeKey !== undefined && !c.sealing.keys
      ? { variable: "SEALING_ACTIVE_KEY", accepted: schema.sealing.activeKey.accepted, message: "SEALING_ACTIVE_KEY is set but SEALING_KEYS is not: set both, or neither to use the development key file" }
      : undefined,
  (c) =>
    c.sealing.activeKey !== undefined && c.sealing.keys && !c.sealing.keys.keyIds.includes(c.sealing.activeKey)
      ? { variable: "SEALING_ACTIVE_KEY", accepted: schema.sealing.activeKey.accepted, message: `SEALING_ACTIVE_KEY "${c.sealing.activeKey}" is not one of the keys in SEALING_KEYS (${c.sealing.keys.keyIds.join(", ")})` }
      : undefined,
  (c) =>
    c.listen.grpcPort !== 0 && c.listen.grpcPort === c.listen.httpPort
      ? { variable: "HTTP_PORT", accepted: "a port other than GRPC_PORT", message: `HTTP_PORT and GRPC_PORT are both ${c.listen.grpcPort}: each protocol needs its own port` }
      : undefined,
  (c) =>
    c.listen.metricsPort !== undefined && c.listen.metricsPort !== 0 && (c.listen.metricsPort === c.listen.grpcPort || c.listen.metricsPort === c.listen.httpPort)
      ? { variable: "METRICS_PORT", accepted: "a port other than GRPC_PORT and HTTP_PORT", message: `METRICS_PORT ${c.listen.metricsPort} is already GRPC_PORT or HTTP_PORT: metrics need a port of their own` }
      : undefined,
  (c) => tracingProblem(c.tracing),
  (c) => clientPair("GOOGLE", c.oauth.google),
  (c) => clientPair("MICROSOFT", c.oauth.microsoft),
];

/** Every refused value at once, so one start names all of them. */
export class ConfigError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`invalid configuration: ${problems.map((p) => p.message).join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** The typed configuration of `env`; throws ConfigError naming every refused variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return loadTree(schema, [...sharedChecks, ...serverChecks], env);
}

/** The gateway process's configuration (its subset of the settings), checked the same way. */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return loadTree(gatewaySchema, sharedChecks, env);
}

function loadTree<T extends SettingTree>(tree: T, checks: ((c: Parsed<T>) => Problem | undefined)[], env: Record<string, string | undefined>): Parsed<T> {
  const problems: Problem[] = [];
  const config = readTree(tree, env, problems);
  if (problems.length === 0) problems.push(...checks.flatMap((check) => check(config) ?? []));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Telegram's application credentials when both are set (a cross-check refuses one alone). */
export function telegramApp(drivers: DriverConfig): { apiId: number; apiHash: string } | undefined {
  const { apiId, apiHash } = drivers.telegram;
  return apiId !== undefined && apiHash !== undefined ? { apiId, apiHash } : undefined;
}

function clientPair(prefix: string, client: { clientId: string | undefined; clientSecret: string | undefined }): Problem | undefined {
  if ((client.clientId === undefined) === (client.clientSecret === undefined)) return undefined;
  const missing = client.clientId === undefined ? `${prefix}_CLIENT_ID` : `${prefix}_CLIENT_SECRET`;
  return { variable: missing, accepted: "both of the client's id and secret, or neither", message: `${prefix}_CLIENT_ID and ${prefix}_CLIENT_SECRET go together: ${missing} is missing` };
}

function resolvable(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
