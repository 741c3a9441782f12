import type { Config } from "./config.ts";
import type { Connector } from "./domain/connectors/connector.ts";

/** The connectors the server runs with, configured from the environment. */
export function productionConnectors(_config: Config): Connector[] {
  return [];
}
