import { AppError, isAppError } from "../../errors/app-error.ts";

/** Connect-phase failures: the provider could not be reached at all. */
const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const timeoutCodes = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/**
 * A transport failure as a catalogue error: a proxy's own verdict (raised by the tunnel)
 * as it is, then unreachable, TLS, timeout; anything else is provider_error. The cause is
 * kept for the server's log: undici's errors name addresses and system calls, never a
 * header or a body.
 */
export function transportError(e: unknown, provider: string, timedOut: boolean): AppError {
  const inner = findAppError(e);
  if (inner) return inner;
  const code = errorCode(e);
  if (timedOut || (code && timeoutCodes.has(code))) return requestTimeout(provider);
  if (code && unreachableCodes.has(code)) {
    return new AppError("provider_unreachable", { detail: `${provider} could not be reached (${code}).`, metadata: { provider, cause: code }, cause: e });
  }
  if (code && /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH)/.test(code)) {
    return new AppError("provider_tls_error", { detail: `${provider}'s certificate was not accepted (${code}).`, metadata: { provider, cause: code }, cause: e });
  }
  return new AppError("provider_error", { detail: `The connection to ${provider} failed.`, metadata: { provider, cause: code ?? "connection_failed" }, cause: e });
}

export function requestTimeout(provider: string): AppError {
  return new AppError("request_timeout", { detail: `${provider} did not answer in time.`, metadata: { provider } });
}

/** fetch wraps the connector's error as TypeError("fetch failed", { cause }). */
function findAppError(e: unknown): AppError | undefined {
  for (let at = e, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) if (isAppError(at)) return at;
  return undefined;
}

function errorCode(e: unknown): string | undefined {
  for (let at = e, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    const code = (at as Error & { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
