import { AppError } from "../../errors/app-error.ts";
import type { ProviderDriver } from "../driver.ts";
import type { WebSession } from "../http/client.ts";
import { startLogin, wrongCode, type LoginContext } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { flowFailure, X, type FlowObservation } from "./flow-errors.ts";
import { createScraper, type FlowResponse, type FlowResult, type FlowSubtaskHandler } from "./scraper.ts";

/**
 * twitter: X's login flow through @the-convocation/twitter-scraper, whose `fetch` option
 * sends every request through our HTTP client (configured hosts, extra CA, bounds). The
 * e-mail confirmation code (LoginAcid) is an OTP and the two-factor challenge a TWO_FACTOR
 * checkpoint, both answered by the person through solve; when LoginAcid asks for the
 * account's e-mail address, the variant's `email` answers it. The auth_token and ct0
 * cookies are the credential; the user id (the twid cookie) is the identity.
 */
export function twitterDriver(env: WebDriverEnv): ProviderDriver<"twitter"> {
  const { twitterApiBaseUrl, twitterWebBaseUrl, twitterFlowStepDelayMs } = env.config;
  const hosts: Record<string, string> = { "api.x.com": twitterApiBaseUrl, "api.twitter.com": twitterApiBaseUrl, "x.com": twitterWebBaseUrl, "twitter.com": twitterWebBaseUrl };
  return {
    variants: ["twitter"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          // The library sends its own browser headers; the session adds none of its own.
          const session = openSession(env, input, context, { provider: X, userAgent: "", defaultUserAgent: "" });
          const seen: FlowObservation = {};
          const scraper = await createScraper({
            fetch: observingFetch(session, hosts, seen),
            // A 429 during a login ends it (retryable) rather than waiting out X's window.
            rateLimitStrategy: { onRateLimit: () => Promise.reject(new AppError("provider_error", { detail: "X rate-limits logins from here.", metadata: { provider: X, status: "429" } })) },
            experimental: { xClientTransactionId: false, xpff: false, flowStepDelay: twitterFlowStepDelayMs },
          });
          scraper.registerAuthSubtaskHandler("LoginJsInstrumentationSubtask", skipJsInstrumentation);
          scraper.registerAuthSubtaskHandler("LoginAcid", codeHandler("OTP", v.email, seen, context));
          scraper.registerAuthSubtaskHandler("LoginTwoFactorAuthChallenge", codeHandler("TWO_FACTOR", undefined, seen, context));
          try {
            await scraper.login(v.username, v.password, v.email);
          } catch (e) {
            throw flowFailure(e, seen);
          }
          const cookies = Object.fromEntries((await scraper.getCookies()).map((c) => [c.key, c.value]));
          const userId = /^"?u(?:%3D|=)(\d+)"?$/.exec(cookies.twid ?? "")?.[1];
          if (!cookies.auth_token || !cookies.ct0 || !userId) {
            throw new AppError("provider_error", { detail: "X's login ended without the auth_token, ct0 and twid cookies.", metadata: { provider: X, cause: "unexpected_response" } });
          }
          return {
            identity: { providerUserId: userId, handle: v.username.replace(/^@/, "") },
            session: providerSession("twitter-cookies/v1", { cookies: { auth_token: cookies.auth_token, ct0: cookies.ct0, twid: cookies.twid } }),
          };
        },
        env.runtime,
      );
    },
  };
}

/**
 * The library would fetch X's instrumentation script and run it in `vm` in our process,
 * after replacing the global setTimeout through linkedom's window (restored only when the
 * script does not throw). No remote code runs here: the metrics are answered empty, which
 * is the library's own fallback when the script fails.
 */
const skipJsInstrumentation: FlowSubtaskHandler = (subtaskId, _previous, _credentials, api) =>
  api.sendFlowRequest({ flow_token: api.getFlowToken(), subtask_inputs: [{ subtask_id: subtaskId, js_instrumentation: { response: "{}", link: "next_link" } }] });

/**
 * A subtask answered with the person's code. X keeps the flow token across a wrong code
 * (it answers errors[0] and the same subtask can be tried again), so a wrong code leaves the
 * checkpoint open.
 */
function codeHandler(type: "OTP" | "TWO_FACTOR", email: string | undefined, seen: FlowObservation, context: LoginContext): FlowSubtaskHandler {
  return async (subtaskId, previous, _credentials, api) => {
    const send = (text: string) => api.sendFlowRequest({ flow_token: api.getFlowToken(), subtask_inputs: [{ subtask_id: subtaskId, enter_text: { text, link: "next_link" } }] });
    if (email && enterText(previous, subtaskId)?.keyboard_type === "email") return send(email);
    return context.askCode<FlowResult>({
      info: { type },
      attempt: async (code) => {
        const result = await send(code.trim());
        if (result.status === "error" && seen.sentSubtask === subtaskId && seen.error !== undefined && seen.error.code !== 326 && seen.error.code !== 64) throw wrongCode(X);
        return result;
      },
    });
  };
}

function enterText(response: FlowResponse, subtaskId: string): { keyboard_type?: string } | undefined {
  return response.subtasks?.find((s) => s.subtask_id === subtaskId)?.enter_text;
}

/** The session's fetch with X's hosts mapped to the configured ones; notes what each login-flow answer said. */
function observingFetch(session: WebSession, hosts: Record<string, string>, seen: FlowObservation): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const base = hosts[url.hostname];
    if (!base) throw new AppError("provider_error", { detail: `X's client asked for an unexpected host.`, metadata: { provider: X, host: url.hostname.slice(0, 64) } });
    const target = new URL(`${base}${url.pathname}${url.search}`);
    const flow = url.pathname.endsWith("/onboarding/task.json");
    if (flow) seen.sentSubtask = sentSubtask(init?.body);
    const response = await session.fetch(target, init);
    if (flow) {
      seen.status = response.status;
      const body = (await response.clone().json().catch(() => undefined)) as { errors?: Array<{ code?: number; message?: string }> } | undefined;
      const first = body?.errors?.[0];
      seen.error = first && typeof first.code === "number" ? { code: first.code, message: String(first.message ?? "").slice(0, 200) } : undefined;
    }
    return response;
  }) as typeof fetch;
}

function sentSubtask(body: unknown): string | undefined {
  if (typeof body !== "string") return undefined;
  try {
    const parsed = JSON.parse(body) as { subtask_inputs?: Array<{ subtask_id?: string }> };
    return parsed.subtask_inputs?.[0]?.subtask_id;
  } catch {
    return undefined;
  }
}
