import { AppError, isAppError } from "../../../errors/app-error.ts";
import type { ErrorKind } from "../../../errors/catalogue.ts";

export type Protocol = "imap" | "smtp";

/** One server the check talks to; host is already normalised. Safe to show and log. */
export interface Endpoint {
  protocol: Protocol;
  host: string;
  port: number;
}

/** Why a mail check failed, as the caller can act on it. */
export type FailureCause = "credentials" | "refused" | "unreachable" | "dns" | "tls" | "protocol" | "timeout" | "canceled";

/** The catalogue entry each cause answers with. */
const kindByCause: Record<FailureCause, ErrorKind> = {
  credentials: "invalid_credentials",
  refused: "provider_unreachable",
  unreachable: "provider_unreachable",
  dns: "provider_unreachable",
  tls: "provider_tls_error",
  protocol: "provider_error",
  timeout: "request_timeout",
  canceled: "request_canceled",
};

/**
 * Builds the error for one endpoint. `reason` is a short, safe phrase (never a server
 * response, which could echo a credential) that completes the sentence for the cause.
 */
export function mailFailure(endpoint: Endpoint, cause: FailureCause, reason?: string, error?: unknown): AppError {
  const { protocol, host, port } = endpoint;
  const name = protocol.toUpperCase();
  const at = `${host}:${port}`;
  const detail = {
    credentials: `${name} login was rejected.`,
    refused: `Could not reach the ${name} server ${at} (${reason ?? "connection refused"}).`,
    unreachable: `Could not reach the ${name} server ${at} (${reason ?? "host unreachable"}).`,
    dns: `Could not reach the ${name} server ${at} (${reason ?? "DNS lookup failed"}).`,
    tls: `Could not secure the connection to the ${name} server ${at}: ${reason ?? "the TLS handshake failed"}.`,
    protocol: `The server at ${at} does not answer like an ${name} server${reason ? `: ${reason}` : ""}.`,
    timeout: `The ${name} server ${at} did not answer in time.`,
    canceled: `The ${name} check was canceled.`,
  }[cause];
  return new AppError(kindByCause[cause], {
    detail,
    metadata: { protocol, host, port: String(port), cause },
    cause: error,
  });
}

/** Node's certificate verification codes (tls docs, "X509 certificate error codes"), grouped by what the person can do. */
const expiredCodes = new Set(["CERT_NOT_YET_VALID", "CERT_HAS_EXPIRED", "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD"]);
const hostnameCodes = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);
const untrustedCodes = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);
const dnsCodes = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NODATA", "EAI_NONAME", "EDNS"]);
const unreachableCodes = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"]);
const resetCodes = new Set(["ECONNRESET", "EPIPE"]);
/** imapflow's and nodemailer's codes for "the server closed the connection". */
const closedCodes = new Set(["NoConnection", "EConnectionClosed", "ClosedAfterConnectText", "ClosedAfterConnectTLS", "ECONNECTION"]);
/** imapflow's and nodemailer's timer codes, plus the kernel's connect timeout. */
const timeoutCodes = new Set(["CONNECT_TIMEOUT", "GREETING_TIMEOUT", "UPGRADE_TIMEOUT", "ETIMEOUT", "ETIMEDOUT"]);

/** What imapflow and nodemailer attach to their errors; every field is optional. */
interface LibraryError {
  code?: unknown;
  /** nodemailer: the socket's own code (e.g. ECONNREFUSED) when it replaced it with ESOCKET/EDNS/ETLS. */
  originalCode?: unknown;
  /** imapflow: the server rejected the login. */
  authenticationFailed?: unknown;
  /** imapflow: TLS or the STARTTLS upgrade failed. */
  tlsFailed?: unknown;
  /** nodemailer: the server's reply to the failed command. */
  response?: unknown;
}

/**
 * Turns whatever imapflow or nodemailer threw into the AppError for that endpoint. The
 * library's message is kept only as the server-side cause: it may quote the server.
 */
export function toMailError(endpoint: Endpoint, error: unknown): AppError {
  if (isAppError(error)) return error;
  const e: LibraryError = typeof error === "object" && error !== null ? error : {};
  const code = typeof e.originalCode === "string" ? e.originalCode : typeof e.code === "string" ? e.code : "";
  const fail = (cause: FailureCause, reason?: string) => mailFailure(endpoint, cause, reason, error);

  if (e.authenticationFailed === true || code === "EAUTH") return fail("credentials");
  if (code === "ECONNREFUSED") return fail("refused");
  if (dnsCodes.has(code)) return fail("dns");
  if (unreachableCodes.has(code)) return fail("unreachable");
  if (untrustedCodes.has(code)) return fail("tls", "the server's certificate is not trusted");
  if (expiredCodes.has(code)) return fail("tls", "the server's certificate has expired or is not valid yet");
  if (hostnameCodes.has(code)) return fail("tls", "the server's certificate does not name this host");
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO") return fail("tls");
  if (timeoutCodes.has(code)) return fail("timeout");
  // imapflow refuses a server that does not list STARTTLS (tlsFailed, no code); nodemailer
  // sends STARTTLS anyway and reports the server's refusal (ETLS with the reply).
  if ((e.tlsFailed === true && code === "") || (code === "ETLS" && e.response !== undefined)) {
    return fail("tls", "the server does not offer STARTTLS");
  }
  if (e.tlsFailed === true || code === "ETLS") return fail("tls");
  if (resetCodes.has(code)) return fail("unreachable", "connection reset");
  if (closedCodes.has(code)) return fail("unreachable", "the server closed the connection");
  return fail("protocol");
}
