import { AppError } from "../../../errors/app-error.ts";
import type { Connector } from "../connector.ts";
import type { TargetGuard } from "../../../net/target-guard.ts";
import type { OAuthConfig } from "../oauth/config.ts";
import { createHttpClient, unexpectedAnswer } from "../oauth/http-client.ts";
import { stringField } from "../oauth/json.ts";
import { oauthResult, readProfile } from "../oauth/refresh.ts";

/**
 * The Microsoft identity platform wants the scope on a refresh. `.default` asks again for
 * what the user already consented to on Graph, and offline_access keeps a refresh token coming.
 */
export const graphRefreshScope = "https://graph.microsoft.com/.default offline_access";

/** What account_mismatch says for each request field that Graph contradicts. */
const mismatchDetails = {
  id: "its Graph id is not `id`",
  username: "neither its mail nor its userPrincipalName is `username`",
};

/**
 * Outlook / Microsoft 365 through Microsoft identity platform tokens the caller obtained:
 * Graph's /me must be the account the request names, by id and by address.
 */
export function createOutlookConnector(config: OAuthConfig, guard?: TargetGuard): Connector<"outlook"> {
  const http = createHttpClient(config, guard);
  const source = {
    provider: "microsoft",
    profileUrl: `${config.microsoft.graphBaseUrl}/v1.0/me?$select=id,mail,userPrincipalName,displayName`,
    client: config.microsoft,
    refreshForm: { scope: graphRefreshScope },
  } as const;

  return {
    variants: ["outlook"],
    async connect(input) {
      const { variant } = input;
      const profile = await readProfile(http, source, variant, input);
      const id = stringField(profile.body, "id");
      // mail is null for accounts without an Exchange mailbox; userPrincipalName is always set.
      const mail = stringField(profile.body, "mail");
      const principalName = stringField(profile.body, "userPrincipalName");
      const email = mail ?? principalName;
      if (!id || !email) throw unexpectedAnswer("microsoft", "for /me has no id or address");

      const wanted = variant.username.toLowerCase();
      const matches = {
        id: id === variant.id,
        username: [mail, principalName].some((address) => address?.toLowerCase() === wanted),
      };
      const mismatches = (["id", "username"] as const).filter((field) => !matches[field]);
      if (mismatches.length > 0) {
        // Says which field did not match, without echoing what Graph returned.
        throw new AppError("account_mismatch", {
          detail: `The tokens belong to another Microsoft account: ${mismatches.map((field) => mismatchDetails[field]).join("; ")}.`,
          metadata: { provider: "microsoft", mismatch: mismatches.join(",") },
        });
      }
      return oauthResult({ providerUserId: id, email, displayName: stringField(profile.body, "displayName") }, profile.refreshed);
    },
  };
}
