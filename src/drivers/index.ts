import type { Logger } from "pino";
import type { DriverConfig } from "../config.ts";
import type { VariantCase } from "../domain/connectors/connector.ts";
import type { ProviderDriver } from "./driver.ts";
import { createDriverHost, type DriverHost } from "./host/host.ts";
import { createTelegramDriver } from "./telegram/driver.ts";
import { createWhatsAppDriver } from "./whatsapp/driver.ts";

/** The provider drivers this service ships: WhatsApp (Baileys) and Telegram (GramJS). */
export function builtInDrivers(config: DriverConfig): ProviderDriver[] {
  return [createWhatsAppDriver(), createTelegramDriver({ app: config.telegram })];
}

/**
 * The in-process host of the built-in drivers, leaving out every variant a gateway serves
 * (GATEWAY_URL_<PROVIDER> moves a provider out of this process). Undefined when none is left.
 */
export function inProcessDriverHost(config: DriverConfig, log: Logger, servedElsewhere: ReadonlySet<VariantCase>): DriverHost | undefined {
  const drivers = builtInDrivers(config).filter((driver) => driver.variants.every((variant) => !servedElsewhere.has(variant)));
  if (drivers.length === 0) return undefined;
  return createDriverHost({ drivers, log: log.child({ component: "driver-host" }), maxPendingSessions: config.maxPendingSessions, sessionTtlMs: config.sessionTtlMs });
}
