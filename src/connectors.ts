import type { Config } from "./config.ts";
import type { Connector } from "./domain/connectors/connector.ts";
import { createGoogleConnector } from "./domain/connectors/google/google-connector.ts";
import { oauthConfigFromEnv } from "./domain/connectors/oauth/config.ts";
import { createOutlookConnector } from "./domain/connectors/outlook/outlook-connector.ts";

/** The connectors the server runs with, configured from the environment. */
export function productionConnectors(config: Config): Connector[] {
  const oauth = oauthConfigFromEnv(config.env);
  return [createGoogleConnector(oauth), createOutlookConnector(oauth)];
}
