import { Api } from "telegram";
import { computeCheck } from "telegram/Password.js";
import type { AuthState } from "../../domain/connectors/interactive.ts";
import { AppError } from "../../errors/app-error.ts";
import type { DriverInput, DriverLogin, ProviderDriver } from "../driver.ts";
import { LoginState } from "../login-state.ts";
import { bounded, gramjsClient, type TelegramClientFactory, type TelegramClientLike } from "./client.ts";
import { missingTelegramConfig, type TelegramAppConfig } from "./config.ts";
import { rpcErrorName, telegramError } from "./errors.ts";
import { telegramIdentity } from "./identity.ts";

export const TELEGRAM_SESSION_FORMAT = "gramjs-string-session/v1";

export interface TelegramDriverOptions {
  /** TELEGRAM_API_ID / TELEGRAM_API_HASH; without them every login answers feature_not_implemented. */
  app: TelegramAppConfig | undefined;
  /** The GramJS client factory: the library itself unless a test fakes it. */
  clientFactory?: TelegramClientFactory;
  /** How long before a login token's expiry a new one is exported (default 5 s). */
  refreshMarginMs?: number;
  /** How long connecting, or one call, may take (default 20 s): GramJS itself waits on a silent network for minutes. */
  callTimeoutMs?: number;
}

/**
 * Telegram through GramJS, logging in as a new device by QR code: auth.exportLoginToken gives a
 * token shown as tg://login?token=..., exported again before it expires. Once the phone scans
 * it (UpdateLoginToken), exporting again answers the authorization (or a data center to move
 * to and import it there). An account with two-step verification answers
 * SESSION_PASSWORD_NEEDED: the variant's password, or a TWO_FACTOR checkpoint, is checked by
 * SRP (auth.checkPassword). The StringSession is the session handed over.
 */
export function createTelegramDriver(options: TelegramDriverOptions): ProviderDriver<"telegram"> {
  return {
    variants: ["telegram"],
    begin(input) {
      if (!options.app) throw missingTelegramConfig();
      return new TelegramLogin(input, options.app, options);
    },
  };
}

class TelegramLogin implements DriverLogin {
  private readonly input: DriverInput;
  private readonly app: TelegramAppConfig;
  private readonly options: TelegramDriverOptions;
  private readonly state: LoginState;
  private readonly client: TelegramClientLike;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(input: DriverInput, app: TelegramAppConfig, options: TelegramDriverOptions) {
    this.input = input;
    this.app = app;
    this.options = options;
    this.state = new LoginState(input.onState);
    this.client = (options.clientFactory ?? gramjsClient)({ session: "", apiId: app.apiId, apiHash: app.apiHash });
    void this.run();
  }

  current(): AuthState {
    return this.state.current();
  }

  async solve(code: string): Promise<AuthState> {
    if (this.state.current().checkpoint?.type !== "TWO_FACTOR" || this.state.final) {
      throw new AppError("no_pending_checkpoint", { detail: "Telegram's QR code is confirmed on the phone; only a two-step verification password is typed." });
    }
    // A wrong password (PASSWORD_HASH_INVALID) throws invalid_checkpoint_code and leaves the checkpoint open.
    await this.checkPassword(code);
    return this.state.current();
  }

  async resend(): Promise<AuthState> {
    if (this.state.current().checkpoint?.type !== "QR_CODE" || this.state.final) {
      throw new AppError("no_pending_checkpoint", { detail: "Only a QR code can be renewed." });
    }
    await this.exportToken();
    return this.state.current();
  }

  async cancel(): Promise<void> {
    this.state.set({ status: "CANCELED" });
    await this.close();
  }

  private async run(): Promise<void> {
    try {
      await bounded(this.client.connect(), this.options.callTimeoutMs ?? 20_000, "the connection");
      this.client.addEventHandler((update) => {
        if (update instanceof Api.UpdateLoginToken) void this.onScanned();
      });
      await this.exportToken();
    } catch (error) {
      await this.fail(error);
    }
  }

  /** One MTProto call, bounded. */
  private invoke<R extends Api.AnyRequest>(request: R): Promise<R["__response"]> {
    return bounded(this.client.invoke(request), this.options.callTimeoutMs ?? 20_000, request.className);
  }

  /** Exports a login token: a QR code to show (and to renew before it expires), or, once scanned, the authorization. */
  private async exportToken(): Promise<void> {
    clearTimeout(this.refreshTimer);
    const result = await this.invoke(new Api.auth.ExportLoginToken({ apiId: this.app.apiId, apiHash: this.app.apiHash, exceptIds: [] }));
    if (this.state.final) return;
    if (result instanceof Api.auth.LoginToken) {
      const expiresAt = new Date(result.expires * 1000);
      this.state.set({ status: "CHECKPOINT", checkpoint: { type: "QR_CODE", qrCode: `tg://login?token=${Buffer.from(result.token).toString("base64url")}`, expiresAt: expiresAt.toISOString() } });
      const delay = Math.max(500, expiresAt.getTime() - Date.now() - (this.options.refreshMarginMs ?? 5_000));
      this.refreshTimer = setTimeout(() => void this.exportToken().catch((error: unknown) => this.fail(error)), delay);
      this.refreshTimer.unref();
      return;
    }
    await this.authorized(result);
  }

  private async onScanned(): Promise<void> {
    if (this.state.final) return;
    try {
      await this.exportToken();
    } catch (error) {
      if (rpcErrorName(error) === "SESSION_PASSWORD_NEEDED") await this.twoFactor();
      else await this.fail(error);
    }
  }

  private async authorized(result: Api.auth.TypeLoginToken): Promise<void> {
    if (result instanceof Api.auth.LoginTokenMigrateTo) {
      // The account lives in another data center: move there and import the token.
      await this.client._switchDC(result.dcId);
      await this.authorized(await this.invoke(new Api.auth.ImportLoginToken({ token: result.token })));
      return;
    }
    if (result instanceof Api.auth.LoginTokenSuccess && result.authorization instanceof Api.auth.Authorization) {
      await this.connected(result.authorization.user);
      return;
    }
    throw new AppError("provider_error", { detail: `Telegram answered the login token with ${result.className}.` });
  }

  private async twoFactor(): Promise<void> {
    clearTimeout(this.refreshTimer);
    const password = this.input.login.password;
    if (!password) {
      this.state.set({ status: "CHECKPOINT", checkpoint: { type: "TWO_FACTOR" } });
      return;
    }
    try {
      await this.checkPassword(password);
    } catch (error) {
      // The request's own password is wrong: its credentials are, not a code typed later.
      await this.fail(error instanceof AppError && error.kind === "invalid_checkpoint_code" ? new AppError("invalid_credentials", { detail: "The two-step verification password is wrong." }) : error);
    }
  }

  private async checkPassword(password: string): Promise<void> {
    try {
      const srp = await this.invoke(new Api.account.GetPassword());
      const check = await computeCheck(srp, password);
      const authorization = await this.invoke(new Api.auth.CheckPassword({ password: check }));
      if (!(authorization instanceof Api.auth.Authorization)) throw new AppError("provider_error", { detail: "Telegram asked to sign up instead of signing in." });
      await this.connected(authorization.user);
    } catch (error) {
      throw telegramError(error);
    }
  }

  private async connected(user: unknown): Promise<void> {
    const { identity, details } = telegramIdentity(user);
    const session = { format: TELEGRAM_SESSION_FORMAT, data: this.client.session.save() };
    if (this.state.set({ status: "CONNECTED", identity, ...(details ? { details } : {}), session })) this.input.log.info("Telegram login authorized");
    await this.close();
  }

  private async fail(error: unknown): Promise<void> {
    const appError = telegramError(error);
    this.input.log.info({ errorType: appError.entry.type, providerError: appError.metadata.providerError }, "Telegram login failed");
    this.state.set({ status: "FAILED", errorKind: appError.kind, ...(appError.retryAfterMs ? { retryAfterMs: appError.retryAfterMs } : {}) });
    await this.close();
  }

  private async close(): Promise<void> {
    clearTimeout(this.refreshTimer);
    if (this.closed) return;
    this.closed = true;
    await this.client.destroy().catch((error: unknown) => this.input.log.debug({ err: { message: (error as Error).message } }, "closing the Telegram client failed"));
  }
}
