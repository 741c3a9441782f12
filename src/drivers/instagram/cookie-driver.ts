import type { ProviderDriver } from "../driver.ts";
import { startLogin } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { currentUser, DEFAULT_INSTAGRAM_USER_AGENT, INSTAGRAM, instagramHeaders } from "./api.ts";

/**
 * instagram_cookie: the `sessionid` cookie of a logged-in browser or app, verified by
 * reading the current user (pk is the identity); the cookie is the credential.
 */
export function instagramCookieDriver(env: WebDriverEnv): ProviderDriver<"instagramCookie"> {
  const base = env.config.instagramBaseUrl;
  return {
    variants: ["instagramCookie"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          // The session id starts with the user id (`<pk>%3A…`): Instagram expects it as ds_user_id too.
          const dsUserId = /^(\d+)(%3A|:)/.exec(v.sessionToken)?.[1];
          const session = openSession(env, input, context, {
            provider: INSTAGRAM,
            proxy: input.proxy,
            userAgent: v.userAgent,
            defaultUserAgent: DEFAULT_INSTAGRAM_USER_AGENT,
            headers: instagramHeaders,
            cookies: { sessionid: v.sessionToken, ...(dsUserId ? { ds_user_id: dsUserId } : {}) },
          });
          const identity = await currentUser(session, base);
          return { identity, session: providerSession("instagram-session/v1", { cookies: session.cookies.toJSON() }) };
        },
        env.runtime,
      );
    },
  };
}
