import { Api, TelegramClient } from "telegram";
import { AppError } from "../../errors/app-error.ts";
import { Logger, LogLevel } from "telegram/extensions/Logger.js";
import { StringSession } from "telegram/sessions/index.js";

/**
 * What the driver uses of a GramJS TelegramClient: connect, invoke (MTProto calls), raw
 * updates (UpdateLoginToken says the QR code was scanned), the data-center switch a login
 * token may ask for, its session, and destroy. This is the seam the tests fake: GramJS's key
 * exchange pins Telegram's RSA keys, so no local server can stand in for Telegram.
 */
export interface TelegramClientLike {
  connect(): Promise<unknown>;
  invoke<R extends Api.AnyRequest>(request: R): Promise<R["__response"]>;
  addEventHandler(callback: (update: unknown) => void): void;
  _switchDC(dcId: number): Promise<unknown>;
  session: { save(): string };
  destroy(): Promise<void>;
}

export interface TelegramClientOptions {
  /** A StringSession ("" for a new login). Secret. */
  session: string;
  apiId: number;
  apiHash: string;
}

export type TelegramClientFactory = (options: TelegramClientOptions) => TelegramClientLike;

/** GramJS itself, silent (it logs to the console otherwise), failing fast instead of retrying forever. */
export const gramjsClient: TelegramClientFactory = (options) =>
  new TelegramClient(new StringSession(options.session), options.apiId, options.apiHash, {
    connectionRetries: 2,
    retryDelay: 500,
    autoReconnect: false,
    baseLogger: new Logger(LogLevel.NONE),
  }) as unknown as TelegramClientLike;

/**
 * Bounds one step of a login: GramJS waits on a silent network (or a half-open connection)
 * far longer than a person waits for a QR code, and its own `timeout` option is unused.
 */
export async function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("request_timeout", { detail: `Telegram did not answer ${what} within ${Math.round(ms / 1000)} s.` })), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
