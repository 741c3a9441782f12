import type { ErrorKind } from "../../../errors/catalogue.ts";
import type { Connector } from "../connector.ts";
import type { TargetGuard } from "../../../net/target-guard.ts";
import type { OAuthConfig } from "../oauth/config.ts";
import { createHttpClient, unexpectedAnswer, type ProviderAnswer } from "../oauth/http-client.ts";
import { arrayField, field, stringField } from "../oauth/json.ts";
import { oauthResult, readProfile } from "../oauth/refresh.ts";

/**
 * Gmail through Google OAuth tokens the caller obtained: the Gmail profile says whose
 * mailbox the access token opens, and its address is the identity.
 */
export function createGoogleConnector(config: OAuthConfig, guard?: TargetGuard): Connector<"googleOauth"> {
  const http = createHttpClient(config, guard);
  const source = {
    provider: "google",
    profileUrl: `${config.google.apiBaseUrl}/gmail/v1/users/me/profile`,
    client: config.google,
    errorKind: googleErrorKind,
  } as const;

  return {
    variants: ["googleOauth"],
    async connect(input) {
      const profile = await readProfile(http, source, input.variant, input);
      const email = stringField(profile.body, "emailAddress");
      if (!email) throw unexpectedAnswer("google", "for the Gmail profile has no emailAddress");
      return oauthResult({ providerUserId: email.toLowerCase(), email }, profile.refreshed);
    },
  };
}

/** Google's documented reasons for a token that lacks a scope (the legacy `errors[]` and the newer ErrorInfo `details[]`). */
const missingScopeReasons = new Set(["insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"]);
/** Gmail also throttles with 403: that is no lack of permission, and it is worth retrying. */
const throttledReasons = new Set(["rateLimitExceeded", "userRateLimitExceeded"]);

function googleErrorKind(answer: ProviderAnswer): ErrorKind | undefined {
  const error = field(answer.body, "error");
  const reasons = [...arrayField(error, "errors"), ...arrayField(error, "details")].map((item) => stringField(item, "reason") ?? "");
  if (reasons.some((reason) => throttledReasons.has(reason))) return "provider_error";
  if (reasons.some((reason) => missingScopeReasons.has(reason))) return "insufficient_permissions";
  return undefined;
}
