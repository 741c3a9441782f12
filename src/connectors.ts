import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { gatewayConnectors } from "./domain/connectors/gateway/index.ts";
import { createGoogleConnector } from "./domain/connectors/google/google-connector.ts";
import { createMailConnector } from "./domain/connectors/mail/index.ts";
import { oauthConfigFromEnv } from "./domain/connectors/oauth/config.ts";
import { createOutlookConnector } from "./domain/connectors/outlook/outlook-connector.ts";
import type { AnyConnector } from "./domain/connectors/registry.ts";
import { inProcessDriverHost } from "./drivers/index.ts";

/** The connectors the server runs with, configured from the environment. */
export function productionConnectors(config: Config, log: Logger): AnyConnector[] {
  const oauth = oauthConfigFromEnv(config.env);
  // Providers whose login runs in a provider-session worker: one gateway each, when configured.
  const gateways = gatewayConnectors(config.gateways);
  // WhatsApp and Telegram run in this process unless a gateway serves them.
  const host = inProcessDriverHost(config.drivers, log, new Set(gateways.flatMap((gateway) => gateway.variants)));
  return [createMailConnector(mailConfigFromEnv(config.env)), createGoogleConnector(oauth), createOutlookConnector(oauth), ...gateways, ...(host ? [host] : [])];
}

function mailConfigFromEnv(env: Record<string, string | undefined>) {
  const caFile = env.MAIL_EXTRA_CA_FILE;
  const timeout = env.MAIL_CONNECT_TIMEOUT_MS;
  if (timeout && !(Number.isInteger(Number(timeout)) && Number(timeout) > 0)) throw new Error(`MAIL_CONNECT_TIMEOUT_MS must be a positive integer, got ${JSON.stringify(timeout)}`);
  return {
    extraCaPem: caFile ? readFileSync(caFile) : undefined,
    connectTimeoutMs: timeout ? Number(timeout) : undefined,
  };
}
