import type { Logger } from "pino";
import { telegramApp, type DriverConfig, type WebDriversConfig } from "../config.ts";
import type { VariantCase } from "../domain/connectors/connector.ts";
import type { TargetGuard } from "../net/target-guard.ts";
import type { ProviderDriver } from "./driver.ts";
import { createDriverHost, type DriverHost } from "./host/host.ts";
import { lazyDriver } from "./lazy-driver.ts";
import { missingTelegramConfig } from "./telegram/config.ts";
import { webDrivers } from "./web-drivers.ts";

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
  return [whatsapp, telegram, ...webDrivers(config.webDrivers, guard)];
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
