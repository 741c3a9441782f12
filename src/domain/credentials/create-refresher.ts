import type { Logger } from "pino";
import type { Config } from "../../config.ts";
import type { Sealer } from "../../crypto/sealer.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import type { Store } from "../../store/store.ts";
import { createHttpClient } from "../connectors/oauth/http-client.ts";
import { graphRefreshScope } from "../connectors/outlook/outlook-connector.ts";
import { TokenRefresher } from "./token-refresher.ts";

export interface TokenRefresherSetup {
  store: Store;
  sealer: Sealer;
  guard: TargetGuard;
  log: Logger;
  now: () => Date;
}

/**
 * The process's one refresher of stored OAuth tokens, from the configuration: Google's and
 * Microsoft's token endpoints, the refresh margin and lock bound. GetCredentials and the
 * health checks share it, so its per-account flight keeps their refreshes one at a time.
 */
export function createTokenRefresher(config: Pick<Config, "oauth" | "credentials">, setup: TokenRefresherSetup): TokenRefresher {
  const { oauth, credentials } = config;
  return new TokenRefresher({
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
}
