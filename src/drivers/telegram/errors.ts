import { AppError } from "../../errors/app-error.ts";
import type { ErrorKind } from "../../errors/catalogue.ts";

/** An RPC error as GramJS raises it (RPCError and its subclasses such as FloodWaitError). */
interface RpcErrorLike {
  errorMessage?: string;
  seconds?: number;
}

const BY_MESSAGE: Record<string, ErrorKind> = {
  AUTH_KEY_UNREGISTERED: "invalid_credentials",
  AUTH_KEY_INVALID: "invalid_credentials",
  SESSION_REVOKED: "invalid_credentials",
  SESSION_EXPIRED: "invalid_credentials",
  USER_DEACTIVATED: "account_restricted",
  USER_DEACTIVATED_BAN: "account_restricted",
  PHONE_NUMBER_BANNED: "account_restricted",
  AUTH_TOKEN_EXPIRED: "intent_expired",
  PASSWORD_HASH_INVALID: "invalid_checkpoint_code",
};

/** The RPC error's name as GramJS keeps it (errorMessage), or undefined for a non-RPC error. */
export function rpcErrorName(error: unknown): string | undefined {
  const message = (error as RpcErrorLike | undefined)?.errorMessage;
  return typeof message === "string" ? message : undefined;
}

/**
 * A GramJS failure as the catalogue names it. Flood waits carry Telegram's delay (RetryInfo);
 * an API id/hash Telegram refuses is our configuration's fault, named as such; anything that
 * is not an RPC answer is the network (GramJS's "Connection to telegram failed", timeouts).
 */
export function telegramError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const name = rpcErrorName(error);
  const metadata: Record<string, string> = name ? { providerError: name.slice(0, 64) } : {};
  // GramJS turns FLOOD_WAIT_X into a FloodWaitError whose errorMessage is "FLOOD" and `seconds` is X.
  if (name === "FLOOD" || name?.startsWith("FLOOD_")) {
    const seconds = Number((error as RpcErrorLike).seconds) || 30;
    return new AppError("provider_error", { detail: `Telegram asks to wait ${seconds} s before trying again.`, retryAfterMs: seconds * 1000, metadata, cause: error });
  }
  if (name === "API_ID_INVALID" || name === "API_ID_PUBLISHED_FLOOD") {
    return new AppError("feature_not_implemented", { detail: "Telegram refused this service's TELEGRAM_API_ID / TELEGRAM_API_HASH.", metadata, cause: error });
  }
  if (name && BY_MESSAGE[name]) return new AppError(BY_MESSAGE[name], { metadata, cause: error });
  if (name) return new AppError("provider_error", { metadata, cause: error });
  const message = error instanceof Error ? error.message : "";
  if (/timed? ?out/i.test(message)) return new AppError("request_timeout", { cause: error });
  return new AppError("provider_unreachable", { detail: "Telegram could not be reached.", cause: error });
}
