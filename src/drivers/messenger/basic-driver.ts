import { randomUUID } from "node:crypto";
import { AppError } from "../../errors/app-error.ts";
import { field, stringField } from "../../domain/connectors/oauth/json.ts";
import type { ProviderDriver } from "../driver.ts";
import { parseJson, type WebAnswer, type WebSession } from "../http/client.ts";
import { startLogin, wrongCode } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { stableUuid } from "../login/stable-id.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { DEFAULT_MESSENGER_USER_AGENT, MESSENGER, readMessengerUser } from "./page.ts";

/**
 * messenger_basic: the Messenger app's password login (POST b-graph /auth/login with
 * `generate_session_cookies=1`, as mautrix-facebook's maufbapi did), its Graph errors
 * mapped: 401 wrong password → invalid_credentials; 406 login approvals → TWO_FACTOR (the
 * code goes back as credentials_type=two_factor), or IN_APP_VALIDATION when Facebook
 * waits for an approval on another device (polled); 405 checkpoint → action_required;
 * 368 blocked → account_restricted. The session cookies it gets are then checked like a
 * messenger_session's; cookies and access token are the credential.
 */
/** The Messenger for Android app's public client token (app id|client token), sent by every app login. */
const MESSENGER_APP_TOKEN = "OAuth 256002347743983|374e60f8b9bb6b8cbb30f78030438895";

export function messengerBasicDriver(env: WebDriverEnv): ProviderDriver<"messengerBasic"> {
  const { facebookBaseUrl, facebookGraphBaseUrl } = env.config;
  return {
    variants: ["messengerBasic"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          const session = openSession(env, input, context, {
            provider: MESSENGER,
            proxy: input.proxy,
            userAgent: v.userAgent,
            defaultUserAgent: DEFAULT_MESSENGER_USER_AGENT,
          });
          const deviceId = stableUuid("messenger-device", v.username);
          const machineId = randomUUID().replace(/-/g, "").slice(0, 24);
          const login = (form: Record<string, string>) =>
            session.send({
              url: `${facebookGraphBaseUrl}/auth/login`,
              headers: { authorization: MESSENGER_APP_TOKEN, "x-fb-friendly-name": "authenticate" },
              form: { format: "json", device_id: deviceId, machine_id: machineId, generate_session_cookies: "1", source: "login", locale: "en_US", ...form },
            });
          let answer = await login({ email: v.username, password: v.password, credentials_type: "password" });
          let body = parseJson(answer);
          if (graphCode(body) === 406) {
            const data = errorData(body);
            const firstFactor = stringField(data, "login_first_factor") ?? "";
            const userId = String(field(data, "uid") ?? "");
            if (stringField(data, "approval_method") === "device") {
              [answer, body] = await context.awaitApproval({
                info: { type: "IN_APP_VALIDATION" },
                poll: async () => {
                  const polled = await login({ credentials_type: "login_approval_poll", first_factor: firstFactor, userid: userId, email: v.username });
                  const polledBody = parseJson(polled);
                  if (graphCode(polledBody) === 406) return undefined;
                  return [polled, polledBody] as [WebAnswer, unknown];
                },
              });
            } else {
              [answer, body] = await context.askCode({
                info: { type: "TWO_FACTOR" },
                attempt: async (code) => {
                  const tried = await login({ credentials_type: "two_factor", twofactor_code: code.replace(/\s/g, ""), first_factor: firstFactor, userid: userId, email: v.username, password: v.password });
                  const triedBody = parseJson(tried);
                  const codeNow = graphCode(triedBody);
                  if (codeNow === 401 || codeNow === 406) throw wrongCode(MESSENGER);
                  return [tried, triedBody] as [WebAnswer, unknown];
                },
              });
            }
          }
          const error = field(body, "error");
          if (error !== undefined || answer.status !== 200) throw graphFailure(answer, body);
          loadSessionCookies(session, body);
          const identity = await readMessengerUser(session, facebookBaseUrl);
          const accessToken = stringField(body, "access_token");
          return { identity, session: providerSession("messenger-cookies/v1", { cookies: session.cookies.toJSON(), ...(accessToken ? { accessToken } : {}) }) };
        },
        env.runtime,
      );
    },
  };
}

function graphCode(body: unknown): number | undefined {
  const code = field(field(body, "error"), "code");
  return typeof code === "number" ? code : undefined;
}

/** Graph sends `error_data` as a JSON string. */
function errorData(body: unknown): unknown {
  const data = field(field(body, "error"), "error_data");
  if (typeof data !== "string") return data;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

function graphFailure(answer: WebAnswer, body: unknown): AppError {
  const code = graphCode(body);
  const subcode = field(field(body, "error"), "error_subcode");
  const metadata = { provider: MESSENGER, status: String(answer.status), ...(code ? { graphCode: String(code) } : {}), ...(typeof subcode === "number" ? { graphSubcode: String(subcode) } : {}) };
  if (code === 401 || code === 400) return new AppError("invalid_credentials", { detail: "Facebook rejected the e-mail or password.", metadata });
  if (code === 405) return new AppError("action_required", { detail: "Facebook stops the login at a checkpoint: log in once from a browser and follow it.", metadata: { ...metadata, block: "checkpoint" } });
  if (code === 368) return new AppError("account_restricted", { detail: "Facebook blocks this account for now.", metadata });
  if (answer.status === 429 || answer.status >= 500 || code === 1 || code === 2) return new AppError("provider_error", { detail: `Facebook answered HTTP ${answer.status}.`, metadata });
  return new AppError("malformed_request", { detail: `Facebook answered HTTP ${answer.status}.`, metadata });
}

/** The app login returns the web session as `session_cookies`: the same cookies a browser would hold. */
function loadSessionCookies(session: WebSession, body: unknown): void {
  const cookies = field(body, "session_cookies");
  if (!Array.isArray(cookies) || cookies.length === 0) {
    throw new AppError("provider_error", { detail: "Facebook's login answer has no session cookies.", metadata: { provider: MESSENGER, cause: "unexpected_response" } });
  }
  for (const cookie of cookies) {
    const name = stringField(cookie, "name");
    const value = stringField(cookie, "value");
    if (name && value) session.cookies.set(name, value);
  }
}
