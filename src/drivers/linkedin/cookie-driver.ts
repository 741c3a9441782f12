import type { ProviderDriver } from "../driver.ts";
import { startLogin } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { checkRecruiterContract, DEFAULT_LINKEDIN_USER_AGENT, LINKEDIN, readMember } from "./voyager.ts";

/**
 * linkedin_cookie: the `li_at` cookie a person copied from a logged-in browser (plus `li_a`
 * for Sales Navigator / Recruiter). Verified by reading the member's own profile; the
 * cookies, with the JSESSIONID LinkedIn paired them with, are the credential.
 */
export function linkedinCookieDriver(env: WebDriverEnv): ProviderDriver<"linkedinCookie"> {
  const base = env.config.linkedinBaseUrl;
  return {
    variants: ["linkedinCookie"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          const session = openSession(env, input, context, {
            provider: LINKEDIN,
            proxy: input.proxy,
            userAgent: v.userAgent,
            defaultUserAgent: DEFAULT_LINKEDIN_USER_AGENT,
            cookies: { li_at: v.sessionToken, ...(v.premiumToken ? { li_a: v.premiumToken } : {}) },
          });
          const identity = await readMember(session, base);
          if (v.recruiterContractId) await checkRecruiterContract(session, base, v.recruiterContractId);
          return {
            identity,
            session: providerSession("linkedin-cookies/v1", { cookies: session.cookies.toJSON() }),
            ...(v.recruiterContractId ? { details: { recruiterContractId: v.recruiterContractId } } : {}),
          };
        },
        env.runtime,
      );
    },
  };
}
