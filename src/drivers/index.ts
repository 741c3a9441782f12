import type { Logger } from "pino";
import { telegramApp, type DriverConfig, type WebDriversConfig } from "../config.ts";
import type { VariantCase } from "../domain/connectors/connector.ts";
import type { TargetGuard } from "../net/target-guard.ts";
import type { ProviderDriver } from "./driver.ts";
import { AppError } from "../errors/app-error.ts";
import { createDriverHost, type DriverHost } from "./host/host.ts";
import { lazyDriver } from "./lazy-driver.ts";
import { missingTelegramConfig } from "./telegram/config.ts";
import { WEB_VARIANTS, type WebVariant } from "./web-variants.ts";

/** What the built-in drivers are configured from: both the server and the gateway process parse it. */
export interface DriversSettings {
  drivers: DriverConfig;
  webDrivers: WebDriversConfig;
}

/**
 * The provider drivers this service ships: WhatsApp (Baileys), Telegram (GramJS) and the web
 * logins of LinkedIn, Instagram, Messenger and X. Twelve variants less the five of mail and
 * OAuth: every interactive variant has a driver here.
 */
export function builtInDrivers(config: DriversSettings, guard: TargetGuard): ProviderDriver[] {
  const app = telegramApp(config.drivers);
  // WhatsApp's and Telegram's libraries are loaded on their first login (see lazy-driver.ts).
  const whatsapp = lazyDriver(["whatsapp"], () => import("./whatsapp/driver.ts").then((m) => m.createWhatsAppDriver({ guard })));
  const telegram = lazyDriver(["telegram"], () => import("./telegram/driver.ts").then((m) => m.createTelegramDriver({ app })), () => {
    if (!app) throw missingTelegramConfig();
  });
  return [whatsapp, telegram, ...lazyWebDrivers(config.webDrivers, guard)];
}

/**
 * The web drivers, loaded together on the first web login: their code is some thirty modules
 * (HTTP client, cookie jar, proxy tunnels, each provider's flow) no replica needs to serve.
 * Their configuration, the extra CA file included, is checked when it is loaded (config.ts).
 */
function lazyWebDrivers(config: WebDriversConfig, guard: TargetGuard): ProviderDriver[] {
  let loading: Promise<ProviderDriver[]> | undefined;
  // Built once, for every variant: the drivers share one trust store. A failed import is tried again.
  const load = () =>
    (loading ??= import("./web-drivers.ts").then(
      (m) => m.webDrivers(config, guard),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    ));
  return WEB_VARIANTS.map((variant) => lazyDriver<WebVariant>([variant], () => load().then((drivers) => driverOf(drivers, variant))));
}

function driverOf(drivers: ProviderDriver[], variant: WebVariant): ProviderDriver<WebVariant> {
  const driver = drivers.find((d) => d.variants.includes(variant));
  // WEB_VARIANTS and webDrivers list the same variants (test/drivers/web-drivers.test.ts).
  if (!driver) throw new AppError("feature_not_implemented", { detail: `No web driver serves ${variant}.` });
  return driver as ProviderDriver<WebVariant>;
}

/** A host of `drivers` with the configured limits: the in-process one and the gateway process's. */
export function driverHost(drivers: ProviderDriver[], config: DriverConfig, log: Logger): DriverHost {
  return createDriverHost({ drivers, log: log.child({ component: "driver-host" }), maxPendingSessions: config.maxPendingSessions, sessionTtlMs: config.sessionTtlMs });
}

/**
 * The in-process host of the built-in drivers, leaving out every variant a gateway serves
 * (GATEWAY_URL_<PROVIDER> moves a provider out of this process). Undefined when none is left.
 */
export function inProcessDriverHost(config: DriversSettings, guard: TargetGuard, log: Logger, servedElsewhere: ReadonlySet<VariantCase>): DriverHost | undefined {
  const drivers = builtInDrivers(config, guard).filter((driver) => driver.variants.every((variant) => !servedElsewhere.has(variant)));
  if (drivers.length === 0) return undefined;
  return driverHost(drivers, config.drivers, log);
}
