import { field, stringField } from "../../domain/connectors/oauth/json.ts";
import type { ProviderDriver } from "../driver.ts";
import { parseJson, type WebSession } from "../http/client.ts";
import { startLogin, wrongCode, type LoginContext } from "../login/runtime.ts";
import { providerSession } from "../login/session.ts";
import { openSession, type WebDriverEnv } from "../web-env.ts";
import { authorizationOf, currentUser, DEFAULT_INSTAGRAM_USER_AGENT, deviceFor, INSTAGRAM, instagramFailure, instagramHeaders, signedForm, unexpected, type InstagramDevice } from "./api.ts";
import { passInstagramChallenge } from "./challenge.ts";

/**
 * instagram_basic: the app's login (POST /api/v1/accounts/login/, as instagram-private-api's
 * `account.login`), its answers mapped: `two_factor_required` → TWO_FACTOR (SMS resendable,
 * authenticator not), `challenge_required` → OTP or IN_APP_VALIDATION (challenge.ts),
 * bad_password / invalid_user → invalid_credentials, feedback_required / inactive user →
 * account_restricted. The serialized session (device, cookies, bearer) is the credential.
 *
 * The password is sent as `#PWD_INSTAGRAM:0:<time>:<password>` (format 0, no client-side
 * encryption, inside TLS) rather than the app's RSA/AES envelope.
 */
export function instagramBasicDriver(env: WebDriverEnv): ProviderDriver<"instagramBasic"> {
  const base = env.config.instagramBaseUrl;
  return {
    variants: ["instagramBasic"],
    begin(input) {
      const v = input.login;
      return startLogin(
        input,
        async (context) => {
          const device = deviceFor(v.username);
          const session = openSession(env, input, context, {
            provider: INSTAGRAM,
            proxy: input.proxy,
            userAgent: v.userAgent,
            defaultUserAgent: DEFAULT_INSTAGRAM_USER_AGENT,
            headers: { ...instagramHeaders, "x-ig-device-id": device.uuid, "x-ig-android-id": device.deviceId },
          });
          const answer = await session.send({
            url: `${base}/api/v1/accounts/login/`,
            form: signedForm({
              username: v.username,
              enc_password: `#PWD_INSTAGRAM:0:${Math.floor(Date.now() / 1000)}:${v.password}`,
              guid: device.uuid,
              phone_id: device.phoneId,
              device_id: device.deviceId,
              login_attempt_count: "0",
            }),
          });
          const body = parseJson(answer);
          let authorization = authorizationOf(answer);
          if (answer.status !== 200 || field(body, "logged_in_user") === undefined) {
            if (field(body, "two_factor_required") === true) authorization = await twoFactor(session, base, v.username, device, field(body, "two_factor_info"), context);
            else if (stringField(body, "message") === "challenge_required" || stringField(body, "error_type") === "checkpoint_challenge_required") {
              const apiPath = stringField(field(body, "challenge"), "api_path");
              if (!apiPath) throw unexpected("named a challenge without its path");
              await passInstagramChallenge(session, base, apiPath, device, context);
            } else throw instagramFailure(answer, body);
          }
          const identity = await currentUser(session, base, authorization);
          return { identity, session: providerSession("instagram-session/v1", { device, cookies: session.cookies.toJSON(), ...(authorization ? { authorization } : {}) }) };
        },
        env.runtime,
      );
    },
  };
}

/** instagram-private-api `account.twoFactorLogin`; "0" verifies an authenticator code, "1" an SMS code. */
async function twoFactor(session: WebSession, base: string, username: string, device: InstagramDevice, info: unknown, context: LoginContext): Promise<string | undefined> {
  const identifier = stringField(info, "two_factor_identifier");
  if (!identifier) throw unexpected("asked for two-factor authentication without an identifier");
  const totp = field(info, "totp_two_factor_on") === true;
  const phone = stringField(info, "obfuscated_phone_number");
  return context.askCode({
    info: { type: "TWO_FACTOR", ...(!totp && phone ? { codeSentTo: phone } : {}) },
    attempt: async (code) => {
      const answer = await session.send({
        url: `${base}/api/v1/accounts/two_factor_login/`,
        form: signedForm({ verification_code: code.replace(/\s/g, ""), two_factor_identifier: identifier, username, device_id: device.deviceId, guid: device.uuid, trust_this_device: "1", verification_method: totp ? "0" : "1" }),
      });
      const body = parseJson(answer);
      if (answer.status === 200 && field(body, "logged_in_user") !== undefined) return authorizationOf(answer);
      const errorType = stringField(body, "error_type") ?? "";
      if (/code|verification/.test(errorType)) throw wrongCode(INSTAGRAM);
      throw instagramFailure(answer, body);
    },
    ...(totp
      ? {}
      : {
          resend: async () => {
            const answer = await session.send({ url: `${base}/api/v1/accounts/send_two_factor_login_sms/`, form: signedForm({ two_factor_identifier: identifier, username, device_id: device.deviceId, guid: device.uuid }) });
            if (answer.status !== 200) throw instagramFailure(answer, parseJson(answer));
            const sentTo = stringField(field(parseJson(answer), "two_factor_info"), "obfuscated_phone_number");
            return sentTo ? { codeSentTo: sentTo } : undefined;
          },
        }),
  });
}
