import { AppError } from "../../errors/app-error.ts";
import { field, stringField } from "../../domain/connectors/oauth/json.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import { parseJson, type WebAnswer, type WebSession } from "../http/client.ts";
import { stableUuid } from "../login/stable-id.ts";

/**
 * Instagram's private mobile API as instagram-private-api speaks it: the Android app's
 * headers, forms signed as `signed_body=SIGNATURE.<json>`, the session in the `sessionid`
 * cookie (and the `ig-set-authorization` bearer the app gets at login).
 */
export const INSTAGRAM = "Instagram";

export const DEFAULT_INSTAGRAM_USER_AGENT = "Instagram 275.0.0.27.98 Android (33/13; 420dpi; 1080x2400; samsung; SM-G991B; o1s; exynos2100; en_US; 458229237)";

/** The app's fixed headers (instagram-private-api `request.getDefaultHeaders`). */
export const instagramHeaders: Record<string, string> = {
  "x-ig-app-id": "567067343352427",
  "x-ig-capabilities": "3brTvx0=",
  "x-ig-connection-type": "WIFI",
  "x-ig-app-locale": "en_US",
  "accept-language": "en-US",
};

/** A stable device per user name, as the library derives one from a seed. */
export interface InstagramDevice {
  deviceId: string;
  uuid: string;
  phoneId: string;
}

export function deviceFor(username: string): InstagramDevice {
  return { deviceId: `android-${stableUuid("instagram-device", username).replace(/-/g, "").slice(0, 16)}`, uuid: stableUuid("instagram-uuid", username), phoneId: stableUuid("instagram-phone", username) };
}

export function signedForm(data: Record<string, string>): Record<string, string> {
  return { signed_body: `SIGNATURE.${JSON.stringify(data)}` };
}

/** The logged-in user (instagram-private-api `account.currentUser()`): pk is the identity. */
export async function currentUser(session: WebSession, baseUrl: string, authorization?: string): Promise<ProviderIdentity> {
  const answer = await session.send({ url: `${baseUrl}/api/v1/accounts/current_user/?edit=true`, headers: authorization ? { authorization } : {} });
  const body = parseJson(answer);
  if (answer.status !== 200) throw instagramFailure(answer, body);
  const user = field(body, "user");
  const pk = field(user, "pk") ?? field(user, "pk_id");
  if ((typeof pk !== "number" && typeof pk !== "string") || String(pk) === "") throw unexpected("has no user pk");
  const username = stringField(user, "username");
  const fullName = stringField(user, "full_name");
  return { providerUserId: String(pk), ...(fullName ? { displayName: fullName } : {}), ...(username ? { handle: username } : {}) };
}

/** The `ig-set-authorization` bearer a login answer may carry (the app sends it back as Authorization). */
export function authorizationOf(answer: WebAnswer): string | undefined {
  const authorization = answer.headers.get("ig-set-authorization");
  return authorization && /^Bearer IGT:/.test(authorization) ? authorization : undefined;
}

/** What Instagram's error answers mean (instagram-private-api's IgLogin*Error / IgResponseError classes). */
export function instagramFailure(answer: WebAnswer, body: unknown): AppError {
  const errorType = stringField(body, "error_type") ?? "";
  const message = stringField(body, "message") ?? "";
  const metadata = { provider: INSTAGRAM, status: String(answer.status), ...(errorType ? { errorType: errorType.slice(0, 64) } : {}) };
  if (errorType === "bad_password" || errorType === "invalid_user" || message === "login_required" || field(body, "invalid_credentials") === true) {
    return new AppError("invalid_credentials", { detail: "Instagram rejected the credentials.", metadata });
  }
  if (message === "feedback_required" || message === "checkpoint_locked" || errorType === "inactive user" || errorType === "sentry_block" || field(body, "spam") === true) {
    return new AppError("account_restricted", { detail: "Instagram restricts or disabled this account.", metadata });
  }
  if (message === "challenge_required" || errorType.startsWith("checkpoint")) {
    return new AppError("action_required", { detail: "Instagram asks for a verification in its app.", metadata: { ...metadata, challenge: "challenge_required" } });
  }
  if (answer.status === 429 || answer.status >= 500) return new AppError("provider_error", { detail: `Instagram answered HTTP ${answer.status}.`, metadata });
  return new AppError("malformed_request", { detail: `Instagram answered HTTP ${answer.status}.`, metadata });
}

export function unexpected(what: string): AppError {
  return new AppError("provider_error", { detail: `Instagram's answer ${what}.`, metadata: { provider: INSTAGRAM, cause: "unexpected_response" } });
}
