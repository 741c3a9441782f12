import type { Logger } from "pino";
import type { Config } from "../../config.ts";
import type { Sealer } from "../../crypto/sealer.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import type { MetricsSink } from "../../observability/metrics.ts";
import type { Store } from "../../store/store.ts";
import { createHttpClient } from "../connectors/oauth/http-client.ts";
import { graphRefreshScope } from "../connectors/outlook/outlook-connector.ts";
import { CredentialReader } from "./credential-reader.ts";
import { TokenRefresher } from "./token-refresher.ts";

export interface CredentialReaderSetup {
  store: Store;
  sealer: Sealer;
  guard: TargetGuard;
  log: Logger;
  metrics: Pick<MetricsSink, "credentialsRead">;
  now: () => Date;
}

/** GetCredentials' reader from the configuration: Google's and Microsoft's token endpoints, the refresh margin and lock bound. */
export function createCredentialReader(config: Pick<Config, "oauth" | "credentials">, setup: CredentialReaderSetup): CredentialReader {
  const { oauth, credentials } = config;
  const refresher = new TokenRefresher({
    store: setup.store,
    sealer: setup.sealer,
    // The OAuth connectors' client: the same bounds, the same allowed networks.
    http: createHttpClient(oauth, setup.guard),
    sources: {
      google: { provider: "google", client: oauth.google },
      microsoft: { provider: "microsoft", client: oauth.microsoft, refreshForm: { scope: graphRefreshScope } },
    },
    marginMs: credentials.refreshMarginMs,
    lockTimeoutMs: credentials.lockTimeoutMs,
    log: setup.log,
    now: setup.now,
  });
  return new CredentialReader({ store: setup.store, sealer: setup.sealer, refresher, log: setup.log, metrics: setup.metrics });
}
