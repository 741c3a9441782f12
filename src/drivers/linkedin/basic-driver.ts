import { AppError } from "../../errors/app-error.ts";
import { field } from "../../domain/connectors/oauth/json.ts";
import type { ProviderDriver } from "../driver.ts";
import { parseJson } from "../http/client.ts";
import { startLogin } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { passChallenge } from "./challenge.ts";
import { authRequestHeaders, checkRecruiterContract, DEFAULT_LINKEDIN_USER_AGENT, ensureCsrfCookie, LINKEDIN, readMember, unexpected } from "./voyager.ts";

/**
 * linkedin_basic: LinkedIn's own login endpoint as tomquirk/linkedin-api uses it
 * (POST /uas/authenticate with session_key, session_password and the JSESSIONID), its
 * `login_result` mapped: PASS, BAD_PASSWORD / BAD_EMAIL (invalid_credentials), CHALLENGE
 * (a checkpoint, see challenge.ts). The session cookies it ends with are the credential.
 */
export function linkedinBasicDriver(env: WebDriverEnv): ProviderDriver<"linkedinBasic"> {
  const base = env.config.linkedinBaseUrl;
  return {
    variants: ["linkedinBasic"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          const session = openSession(env, input, context, { provider: LINKEDIN, proxy: input.proxy, userAgent: v.userAgent, defaultUserAgent: DEFAULT_LINKEDIN_USER_AGENT });
          const jsession = await ensureCsrfCookie(session, base);
          const answer = await session.send({
            url: `${base}/uas/authenticate`,
            headers: authRequestHeaders,
            form: { session_key: v.username, session_password: v.password, JSESSIONID: jsession },
          });
          const body = parseJson(answer);
          const result = field(body, "login_result");
          if (answer.status === 429 || answer.status >= 500) throw unexpected(`answered HTTP ${answer.status}`);
          if (result === "BAD_PASSWORD" || result === "BAD_EMAIL" || answer.status === 401) {
            throw new AppError("invalid_credentials", { detail: "LinkedIn rejected the e-mail or password.", metadata: { provider: LINKEDIN, loginResult: typeof result === "string" ? result : "UNAUTHORIZED" } });
          }
          if (result === "CHALLENGE") {
            const challengeUrl = field(body, "challenge_url");
            if (typeof challengeUrl !== "string") throw unexpected("named a challenge without its URL");
            await passChallenge(session, base, challengeUrl, context);
          } else if (result !== "PASS") {
            throw new AppError("action_required", { detail: "LinkedIn stopped the login.", metadata: { provider: LINKEDIN, loginResult: typeof result === "string" ? result.slice(0, 64) : "unknown" } });
          }
          if (!session.cookies.get("li_at")) throw unexpected("did not set the li_at session cookie");
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
