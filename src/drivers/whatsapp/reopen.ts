import type { Logger } from "pino";
import type { ProxyCredentials } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import type { ProviderSession } from "../../domain/connectors/interactive.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import { AppError } from "../../errors/app-error.ts";
import { WhatsAppAuthState } from "./auth-state.ts";
import { classifyDisconnect } from "./disconnect.ts";
import { openWhatsAppSocket, whatsAppIdentity, type WhatsAppDriverOptions } from "./driver.ts";

export interface ReopenedWhatsApp {
  identity: ProviderIdentity;
  /** The auth state as it is now (keys change with traffic): what to seal again. */
  session(): ProviderSession;
  close(): void;
}

/**
 * Reopens a linked device from the session a login handed over (after a restart, on another
 * host): the socket logs in with the stored credentials, no QR. Resolves once WhatsApp
 * accepts them; a device the phone removed meanwhile is invalid_credentials.
 */
export function reopenWhatsApp(session: ProviderSession, input: { log: Logger; signal: AbortSignal; proxy?: ProxyCredentials }, options: WhatsAppDriverOptions): Promise<ReopenedWhatsApp> {
  const auth = WhatsAppAuthState.fromSession(session);
  return new Promise((resolve, reject) => {
    const socket = openWhatsAppSocket(auth, input, options);
    let settled = false;
    const settle = (error?: AppError) => {
      if (settled) return;
      settled = true;
      input.signal.removeEventListener("abort", onAbort);
      if (!error) {
        resolve({ identity: whatsAppIdentity(auth), session: () => auth.toSession(), close: () => socket.end(undefined) });
        return;
      }
      socket.end(undefined);
      reject(error);
    };
    const onAbort = () => settle(new AppError("request_timeout", { detail: "WhatsApp did not reopen the session in time." }));
    input.signal.addEventListener("abort", onAbort, { once: true });
    socket.ev.on("connection.update", (update) => {
      if (update.connection === "open") settle();
      else if (update.connection === "close") {
        const outcome = classifyDisconnect(update.lastDisconnect?.error);
        settle(new AppError(outcome.restart ? "provider_error" : outcome.errorKind));
      }
    });
  });
}
