import type { Config } from "./config.ts";
import { gatewayConnectors } from "./domain/connectors/gateway/index.ts";
import { createGoogleConnector } from "./domain/connectors/google/google-connector.ts";
import { createMailConnector } from "./domain/connectors/mail/index.ts";
import { createOutlookConnector } from "./domain/connectors/outlook/outlook-connector.ts";
import type { AnyConnector } from "./domain/connectors/registry.ts";

/** The connectors the server runs with, from the parsed configuration. */
export function productionConnectors(config: Config): AnyConnector[] {
  return [
    createMailConnector(config.mail),
    createGoogleConnector(config.oauth),
    createOutlookConnector(config.oauth),
    // Providers whose login runs in a provider-session worker: one gateway each, when configured.
    ...gatewayConnectors(config.gateways),
  ];
}
