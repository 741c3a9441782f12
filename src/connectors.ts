import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { createGoogleConnector } from "./domain/connectors/google/google-connector.ts";
import { createMailConnector } from "./domain/connectors/mail/index.ts";
import { createOutlookConnector } from "./domain/connectors/outlook/outlook-connector.ts";
import type { AnyConnector } from "./domain/connectors/registry.ts";
import { inProcessDriverHost } from "./drivers/index.ts";
import { createTargetGuard } from "./net/target-guard.ts";

/** The connectors the server runs with, from the parsed configuration. */
export async function productionConnectors(config: Config, log: Logger): Promise<AnyConnector[]> {
  // One policy for every host a connector dials: mail servers named by callers, provider APIs named by the operator, proxies.
  const guard = createTargetGuard({ allowed: config.providers.allowedNetworks });
  // Providers whose login runs in a provider-session worker: one gateway each, when configured.
  // The gateway client and its contract's descriptors are loaded only when a gateway is configured.
  const gateways = Object.values(config.gateways).some((address) => address !== undefined) ? (await import("./domain/connectors/gateway/index.ts")).gatewayConnectors(config.gateways) : [];
  // Every other interactive variant (WhatsApp, Telegram, the web logins) runs in this process.
  const host = inProcessDriverHost(config, guard, log, new Set(gateways.flatMap((gateway) => gateway.variants)));
  return [createMailConnector({ ...config.mail, guard }), createGoogleConnector(config.oauth, guard), createOutlookConnector(config.oauth, guard), ...gateways, ...(host ? [host] : [])];
}
