import type { WebDriversConfig } from "../config.ts";
import type { TargetGuard } from "../net/target-guard.ts";
import type { ProviderDriver } from "./driver.ts";
import { instagramBasicDriver } from "./instagram/basic-driver.ts";
import { instagramCookieDriver } from "./instagram/cookie-driver.ts";
import { linkedinBasicDriver } from "./linkedin/basic-driver.ts";
import { linkedinCookieDriver } from "./linkedin/cookie-driver.ts";
import { messengerBasicDriver } from "./messenger/basic-driver.ts";
import { messengerSessionDriver } from "./messenger/session-driver.ts";
import { twitterDriver } from "./twitter/driver.ts";
import { webDriverEnv } from "./web-env.ts";

/**
 * The web drivers, one per variant: LinkedIn, Instagram and Messenger (cookie and
 * password), and X. A host registers them all; each reads its provider's base URL, the
 * extra CA and the bounds from the configuration; `guard` (PROVIDER_ALLOWED_NETWORKS) says
 * which addresses the providers and the accounts' proxies may resolve to.
 */
export function webDrivers(config: WebDriversConfig, guard: TargetGuard): ProviderDriver[] {
  const env = webDriverEnv(config, guard);
  return [
    linkedinCookieDriver(env),
    linkedinBasicDriver(env),
    instagramCookieDriver(env),
    instagramBasicDriver(env),
    messengerSessionDriver(env),
    messengerBasicDriver(env),
    twitterDriver(env),
  ];
}
