import type { ProviderDriver } from "../driver.ts";
import { startLogin } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { DEFAULT_MESSENGER_USER_AGENT, MESSENGER, readMessengerUser } from "./page.ts";

/**
 * messenger_session: the cookies (and extra headers) of a logged-in browser, checked by
 * loading the messages page (page.ts). The cookies and headers are the credential.
 */
export function messengerSessionDriver(env: WebDriverEnv): ProviderDriver<"messengerSession"> {
  const base = env.config.facebookBaseUrl;
  return {
    variants: ["messengerSession"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          // Hop-by-hop and computed headers are the client's own; the rest go as the browser sent them.
          const headers = Object.fromEntries(Object.entries(v.headers).filter(([name]) => !/^(host|cookie|content-length|connection|transfer-encoding)$/i.test(name)));
          const session = openSession(env, input, context, {
            provider: MESSENGER,
            proxy: input.proxy,
            userAgent: v.userAgent,
            defaultUserAgent: DEFAULT_MESSENGER_USER_AGENT,
            headers,
            cookies: Object.fromEntries(v.cookies.map((c) => [c.name, c.value])),
          });
          const identity = await readMessengerUser(session, base, v.username || undefined);
          return { identity, session: providerSession("messenger-cookies/v1", { cookies: session.cookies.toJSON(), headers }) };
        },
        env.runtime,
      );
    },
  };
}
