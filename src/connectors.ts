import { readFileSync } from "node:fs";
import type { Config } from "./config.ts";
import { gatewayConnectors } from "./domain/connectors/gateway/index.ts";
import { createGoogleConnector } from "./domain/connectors/google/google-connector.ts";
import { createMailConnector } from "./domain/connectors/mail/index.ts";
import { oauthConfigFromEnv } from "./domain/connectors/oauth/config.ts";
import { createOutlookConnector } from "./domain/connectors/outlook/outlook-connector.ts";
import type { AnyConnector } from "./domain/connectors/registry.ts";
import { createTargetGuard } from "./net/target-guard.ts";

/** The connectors the server runs with, configured from the environment. */
export function productionConnectors(config: Config): AnyConnector[] {
  const oauth = oauthConfigFromEnv(config.env);
  // One policy for every host a connector dials: mail servers named by callers, provider APIs named by the operator.
  const guard = createTargetGuard({ allowed: config.providerAllowedNetworks });
  return [
    createMailConnector({ ...mailConfigFromEnv(config.env), guard }),
    createGoogleConnector(oauth, guard),
    createOutlookConnector(oauth, guard),
    // Providers whose login runs in a provider-session worker: one gateway each, when configured.
    ...gatewayConnectors(config.gateways),
  ];
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
