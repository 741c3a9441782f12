/**
 * How both ports treat connections and browsers. Every value has a configuration variable
 * (see src/config.ts and the README's configuration table).
 */
export interface TransportSettings {
  /** Origins (scheme://host[:port]) whose pages may call the HTTP port (CORS_ALLOWED_ORIGINS). None by default. */
  corsAllowedOrigins: readonly string[];
  /**
   * A new connection must send its first request within this (HANDSHAKE_TIMEOUT_MS): the first
   * byte, then an HTTP/1.1 request's headers or an HTTP/2 session's first stream.
   */
  handshakeTimeoutMs: number;
  /** A connection with no call in flight is closed after this (IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** Concurrent streams one HTTP/2 connection may open, on either port (HTTP2_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: number;
  /**
   * Streams the client may cancel (RST_STREAM) per HTTP/2 connection (HTTP2_MAX_RESETS): past it,
   * the connection gets GOAWAY ENHANCE_YOUR_CALM. Rapid reset (CVE-2023-44487) needs thousands.
   */
  maxResetsPerConnection: number;
  /** gRPC port: a connection is asked to reconnect (GOAWAY) after this long, so load rebalances (GRPC_MAX_CONNECTION_AGE_MS). */
  maxConnectionAgeMs: number;
  /** gRPC port: the server pings a connection that has been silent this long, and drops it if unanswered (GRPC_KEEPALIVE_TIME_MS). */
  keepaliveTimeMs: number;
}

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = {
  corsAllowedOrigins: [],
  handshakeTimeoutMs: 5_000,
  idleTimeoutMs: 300_000,
  maxConcurrentStreams: 100,
  maxResetsPerConnection: 100,
  maxConnectionAgeMs: 30 * 60_000,
  keepaliveTimeMs: 2 * 60_000,
};

/** How long a keepalive ping may go unanswered before the connection is dropped. */
export const KEEPALIVE_TIMEOUT_MS = 20_000;
