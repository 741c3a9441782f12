import { Api } from "telegram";
import type { Logger } from "pino";
import type { ProviderSession } from "../../domain/connectors/interactive.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import { AppError } from "../../errors/app-error.ts";
import { bounded, gramjsClient, type TelegramClientFactory, type TelegramClientLike } from "./client.ts";
import { missingTelegramConfig, type TelegramAppConfig } from "./config.ts";
import { TELEGRAM_SESSION_FORMAT } from "./driver.ts";
import { telegramError } from "./errors.ts";
import { telegramIdentity } from "./identity.ts";

export interface ReopenedTelegram {
  identity: ProviderIdentity;
  client: TelegramClientLike;
  close(): Promise<void>;
}

/**
 * Reopens a Telegram session a login handed over (after a restart, on another host): a client
 * on the stored StringSession asks who it is. A session the person terminated meanwhile
 * (AUTH_KEY_UNREGISTERED, SESSION_REVOKED) is invalid_credentials.
 */
export async function reopenTelegram(session: ProviderSession, app: TelegramAppConfig | undefined, input: { log: Logger; signal: AbortSignal }, clientFactory: TelegramClientFactory = gramjsClient): Promise<ReopenedTelegram> {
  if (!app) throw missingTelegramConfig();
  if (session.format !== TELEGRAM_SESSION_FORMAT) throw new AppError("invalid_parameters", { detail: `Not a Telegram session (${session.format}).` });
  const client = clientFactory({ session: session.data, apiId: app.apiId, apiHash: app.apiHash });
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new AppError("request_timeout", { detail: "Telegram did not reopen the session in time." }));
    if (input.signal.aborted) onAbort();
    else input.signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    await Promise.race([bounded(client.connect(), 20_000, "the connection"), aborted]);
    const [user] = await Promise.race([bounded(client.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] })), 20_000, "users.getUsers"), aborted]);
    const { identity } = telegramIdentity(user);
    input.log.debug("Telegram session reopened");
    return { identity: identity!, client, close: () => client.destroy() };
  } catch (error) {
    await client.destroy().catch(() => {});
    throw telegramError(error);
  }
}
