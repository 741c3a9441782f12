import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Secrets never belong in a log line; we never log request bodies or headers. These
 * paths are the safety net should an object carrying one reach a log call anyway.
 */
const SECRET_KEYS = [
  "password", "imapPassword", "smtpPassword", "imap_password", "smtp_password",
  "accessToken", "refreshToken", "premiumToken", "access_token", "refresh_token", "premium_token",
  "sessionid", "cookies", "headers", "authorization", "apiKey", "api_key", "x-api-key", "secret", "token",
];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const leaf = /^\w+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return [leaf.replace(/^\./, ""), `*${leaf}`, `*.*${leaf}`];
});

export interface LoggerOptions {
  level?: string;
  /** json (default): one JSON object a line. pretty: coloured, human-readable lines (pino-pretty, a dev dependency). */
  format?: "json" | "pretty";
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? "info",
    base: { service: "postpress-accounts" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  if (options.format === "pretty") {
    // A worker thread formats the lines; the redaction above still runs first, in this thread.
    return pino({ ...settings, transport: { target: "pino-pretty", options: { destination: 1, ignore: "service" } } });
  }
  return pino(settings, options.destination);
}

/**
 * The same logger without the safety net, for lines whose fields are fixed and never secret
 * (the per-RPC line). The net's wildcard paths are walked for every field of every line,
 * which costs more than the rest of a cheap RPC's logging.
 */
export function withoutRedaction(log: Logger): Logger {
  return log.child({}, { redact: [] });
}
