import { DisconnectReason } from "baileys";
import type { ErrorKind } from "../../errors/catalogue.ts";
import { isProxyFailure } from "../proxy/agent.ts";

/** What a closed Baileys socket means for the login. */
export type DisconnectOutcome = { restart: true } | { restart: false; status: "FAILED" | "EXPIRED"; errorKind: ErrorKind };

/** Codes of errors thrown while reaching a host (Node's, as the `ws` library passes them on). */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "ETIMEDOUT"]);

interface BoomLike {
  message?: string;
  output?: { statusCode?: number };
  data?: unknown;
}

function failed(errorKind: ErrorKind): DisconnectOutcome {
  return { restart: false, status: "FAILED", errorKind };
}

/**
 * Reads the `lastDisconnect.error` Baileys closes a socket with (a Boom whose statusCode is a
 * DisconnectReason, or the HTTP status of a refused WebSocket upgrade), per Baileys'
 * src/Socket/socket.ts and src/Utils/generics.ts (getCodeFromWSError, getErrorCodeFromStreamError).
 */
export function classifyDisconnect(error: Error | undefined): DisconnectOutcome {
  const boom = (error ?? {}) as BoomLike;
  const status = boom.output?.statusCode;
  const cause = boom.data;
  if (isProxyFailure(cause)) return failed(cause.kind);
  // The pair-device stanza carries a fixed list of QR refs; when the last one times out the socket ends with 408.
  if (boom.message?.includes("QR refs attempts ended")) return { restart: false, status: "EXPIRED", errorKind: "intent_expired" };
  switch (status) {
    case DisconnectReason.restartRequired:
      return { restart: true };
    case DisconnectReason.loggedOut:
      return failed("invalid_credentials");
    case DisconnectReason.forbidden:
    case 402: // "temporarily banned" stream failure
      return failed("account_restricted");
    case 407:
      return failed("proxy_auth_error");
    case DisconnectReason.connectionClosed:
    case DisconnectReason.connectionLost:
      if (typeof (cause as { code?: unknown })?.code === "string" && UNREACHABLE_CODES.has((cause as { code: string }).code)) return failed("provider_unreachable");
      return failed("no_channel");
    case DisconnectReason.unavailableService:
      return failed("service_unavailable");
    default:
      return failed("provider_error");
  }
}
