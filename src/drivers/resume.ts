import type { Logger } from "pino";
import type { Sealer } from "../crypto/sealer.ts";
import { readAccountCredentials } from "../domain/accounts/account-secrets.ts";
import { AppError } from "../errors/app-error.ts";
import type { ProviderIdentity, Store } from "../store/store.ts";
import type { TelegramClientFactory } from "./telegram/client.ts";
import type { TelegramAppConfig } from "./telegram/config.ts";
import { TELEGRAM_SESSION_FORMAT } from "./telegram/driver.ts";
import { reopenTelegram } from "./telegram/reopen.ts";
import { WHATSAPP_SESSION_FORMAT } from "./whatsapp/auth-state.ts";
import type { WhatsAppDriverOptions } from "./whatsapp/driver.ts";
import { reopenWhatsApp } from "./whatsapp/reopen.ts";

/** What reopening needs of each driver: the same options the login ran with (guard, socket seams, Telegram's app). */
export interface ResumeOptions {
  whatsapp?: WhatsAppDriverOptions;
  telegram?: { app: TelegramAppConfig | undefined; clientFactory?: TelegramClientFactory };
}

/** A provider session open again. `close` ends its sockets; the session material itself is never exposed here. */
export interface ResumedSession {
  format: string;
  identity: ProviderIdentity;
  close(): Promise<void>;
}

/**
 * Issue 14: after a restart (of this process or of the host that ran the login), opens an
 * account's provider session again from what was sealed with the account when it connected:
 * read through readAccountCredentials (so the current keyring opens it, whatever key sealed it
 * before a `secrets rotate`), reopened by its driver. Lazily, on first use: nothing here runs
 * at start-up. not_found for an account without a sealed session (a one-shot provider).
 */
export async function resumeSession(
  deps: { store: Store; sealer: Sealer },
  account: { workspaceId: string; accountId: string },
  options: ResumeOptions,
  input: { log: Logger; signal: AbortSignal },
): Promise<ResumedSession> {
  const { session } = await readAccountCredentials(deps.store, deps.sealer, account.workspaceId, account.accountId);
  if (!session) throw new AppError("not_found", { detail: "The account has no provider session to resume.", metadata: { accountId: account.accountId } });
  switch (session.format) {
    case WHATSAPP_SESSION_FORMAT: {
      if (!options.whatsapp) break;
      const reopened = await reopenWhatsApp(session, input, options.whatsapp);
      return { format: session.format, identity: reopened.identity, close: async () => reopened.close() };
    }
    case TELEGRAM_SESSION_FORMAT: {
      if (!options.telegram) break;
      const reopened = await reopenTelegram(session, options.telegram.app, input, options.telegram.clientFactory);
      return { format: session.format, identity: reopened.identity, close: () => reopened.close() };
    }
  }
  throw new AppError("feature_not_implemented", { detail: `No driver here reopens ${session.format} sessions.`, metadata: { accountId: account.accountId } });
}
