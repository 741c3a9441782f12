import type { AuthState } from "../domain/connectors/interactive.ts";
import type { VariantCase } from "../domain/connectors/connector.ts";
import { AppError, isAppError } from "../errors/app-error.ts";
import type { DriverInput, DriverLogin, ProviderDriver } from "./driver.ts";

/**
 * A driver whose code is imported on its first login. Baileys and GramJS are the heaviest
 * libraries the service has (together about half of its start-up and a third of its idle
 * memory), and most replicas never run a WhatsApp or Telegram login. `refuse` runs each
 * begin before anything is loaded: what the driver itself would refuse at once (Telegram
 * without its API credentials) is still refused at once, not reported later as FAILED.
 */
export function lazyDriver<C extends VariantCase>(variants: readonly C[], load: () => Promise<ProviderDriver<C>>, refuse: () => void = () => {}): ProviderDriver<C> {
  let loading: Promise<ProviderDriver<C>> | undefined;
  return {
    variants,
    begin(input) {
      refuse();
      // A failed import is tried again by the next login, not remembered.
      const driver = (loading ??= load().catch((error: unknown) => {
        loading = undefined;
        throw error;
      }));
      return new DeferredLogin(input, driver);
    },
  };
}

const BEGINNING: AuthState = { status: "PENDING", version: 0 };

/** A login that begins once its driver is loaded; until then it is PENDING, as any login starts. */
class DeferredLogin implements DriverLogin {
  private login: DriverLogin | undefined;
  private canceled = false;
  /** Set once this wrapper reported a final state itself (the driver never began). */
  private ended = false;
  private readonly ready: Promise<void>;
  private readonly input: DriverInput;

  constructor(input: DriverInput, driver: Promise<ProviderDriver>) {
    this.input = input;
    this.ready = driver.then(
      (loaded) => {
        if (this.canceled) return;
        try {
          this.login = loaded.begin(input);
        } catch (error) {
          this.fail(error);
        }
      },
      (error: unknown) => this.fail(error),
    );
  }

  private fail(error: unknown): void {
    this.ended = true;
    this.input.log.error({ err: { message: (error as Error).message } }, "the provider driver could not begin");
    this.input.onState({ status: "FAILED", errorKind: isAppError(error) ? error.kind : "unexpected_error", version: 0 });
  }

  current(): AuthState {
    return this.login?.current() ?? BEGINNING;
  }

  async solve(code: string, signal: AbortSignal): Promise<AuthState> {
    await this.ready;
    if (!this.login) throw new AppError("no_pending_checkpoint");
    return this.login.solve(code, signal);
  }

  async resend(signal: AbortSignal): Promise<AuthState> {
    await this.ready;
    if (!this.login) throw new AppError("no_pending_checkpoint");
    return this.login.resend(signal);
  }

  async cancel(): Promise<void> {
    this.canceled = true;
    await this.ready;
    if (this.login) await this.login.cancel();
    else if (!this.ended) {
      this.ended = true;
      this.input.onState({ status: "CANCELED", version: 0 });
    }
  }
}
