import { randomBytes } from "node:crypto";
import type { ServerCertificate } from "../mail/pki.ts";
import { startFakeHttps, type FakeHttps, type FakeReply, type FakeRequest } from "./fake-https.ts";

/**
 * Instagram's private API as the drivers see it. Shapes from dilame/instagram-private-api
 * (src/repositories/account.repository.ts, challenge.repository.ts, src/errors/*, and the
 * response interfaces under src/responses/):
 * - POST /api/v1/accounts/login/ → {logged_in_user: {pk, username, full_name, …}, status: "ok"} with
 *   ig-set-authorization and the sessionid/ds_user_id/csrftoken cookies; failures are HTTP 400 with
 *   {message, invalid_credentials, error_type: "bad_password" | "invalid_user", status: "fail"},
 *   {two_factor_required: true, two_factor_info: {two_factor_identifier, sms_two_factor_on,
 *   totp_two_factor_on, obfuscated_phone_number, username}}, {message: "challenge_required",
 *   challenge: {api_path, url}, error_type: "checkpoint_challenge_required"},
 *   {message: "feedback_required", spam: true}, {error_type: "inactive user"}.
 * - POST /api/v1/accounts/two_factor_login/, /api/v1/accounts/send_two_factor_login_sms/.
 * - GET|POST /api/v1/challenge/<id>/<nonce>/: {step_name: "select_verify_method" | "verify_email"
 *   | "delta_login_review", step_data: {email, phone_number, contact_point}}, then
 *   {action: "close", status: "ok"}; /api/v1/challenge/replay/… resends.
 * - GET /api/v1/accounts/current_user/?edit=true → {user: {pk, username, full_name}, status: "ok"};
 *   a dead session: 403 {message: "login_required", logout_reason: 2, status: "fail"}; a session
 *   Instagram holds (`held`): 400 with the same challenge_required / feedback_required bodies as
 *   the login's (instagram-private-api maps any request's to IgCheckpointError / IgActionSpamError).
 */
export type InstagramHurdle = "two_factor_sms" | "two_factor_totp" | "challenge_email" | "delta_login_review" | "feedback_required" | "inactive" | "unknown_step";

export interface InstagramUser {
  username: string;
  password: string;
  pk: number;
  fullName: string;
  hurdle?: InstagramHurdle;
  /** What reading the current user with a session of this user answers instead of the user. */
  held?: "challenge_required" | "feedback_required";
}

export interface FakeInstagram extends FakeHttps {
  addUser(user: InstagramUser): void;
  sessionFor(username: string): string;
  lastCode(): string;
  resendCount(): number;
  approve(): void;
}

export async function startFakeInstagram(certificate: ServerCertificate): Promise<FakeInstagram> {
  const users = new Map<string, InstagramUser>();
  const sessions = new Map<string, InstagramUser>();
  const pending = new Map<string, { user: InstagramUser; code: string; approved: boolean; chosen: boolean }>();
  let lastCode = "";
  let resends = 0;
  let lastPending = "";

  const issue = (user: InstagramUser) => {
    const id = `${user.pk}%3A${randomBytes(8).toString("hex")}%3A12`;
    sessions.set(id, user);
    return id;
  };
  const loggedIn = (user: InstagramUser, body: object = { logged_in_user: { pk: user.pk, pk_id: String(user.pk), username: user.username, full_name: user.fullName }, status: "ok" }): FakeReply => ({
    json: body,
    headers: { "ig-set-authorization": `Bearer IGT:2:${randomBytes(8).toString("hex")}` },
    setCookies: [`sessionid=${issue(user)}; Domain=.instagram.com; Path=/; Secure; HttpOnly`, `ds_user_id=${user.pk}; Path=/`, `csrftoken=${randomBytes(8).toString("hex")}; Path=/`],
  });
  const newCode = () => (lastCode = String(100000 + Math.floor(Math.random() * 899999)));
  const signed = (r: FakeRequest) => JSON.parse((r.form.signed_body ?? "SIGNATURE.{}").slice("SIGNATURE.".length)) as Record<string, string>;
  const fail = (body: object): FakeReply => ({ status: 400, json: { status: "fail", ...body } });

  const handle = (r: FakeRequest): FakeReply => {
    if (r.path === "/api/v1/accounts/login/") {
      const data = signed(r);
      const user = users.get(data.username ?? "");
      if (!user) return fail({ message: "The username you entered doesn't appear to belong to an account.", invalid_credentials: true, error_type: "invalid_user" });
      if (data.enc_password?.split(":").slice(3).join(":") !== user.password) return fail({ message: "The password you entered is incorrect. Please try again.", invalid_credentials: true, error_type: "bad_password" });
      const key = randomBytes(6).toString("hex");
      switch (user.hurdle) {
        case undefined:
          return loggedIn(user);
        case "two_factor_sms":
        case "two_factor_totp":
          newCode();
          pending.set(key, { user, code: lastCode, approved: false, chosen: false });
          lastPending = key;
          return fail({
            message: "",
            two_factor_required: true,
            two_factor_info: { username: user.username, sms_two_factor_on: user.hurdle === "two_factor_sms", totp_two_factor_on: user.hurdle === "two_factor_totp", obfuscated_phone_number: "••••42", two_factor_identifier: key, show_messenger_code_option: false },
            error_type: "two_factor_required",
          });
        case "feedback_required":
          return fail({ message: "feedback_required", spam: true, feedback_title: "Try Again Later", feedback_message: "We restrict certain activity to protect our community." });
        case "inactive":
          return fail({ message: "Your account has been disabled for violating our terms.", error_type: "inactive user" });
        default:
          pending.set(key, { user, code: newCode(), approved: false, chosen: false });
          lastPending = key;
          return fail({ message: "challenge_required", challenge: { url: `https://i.instagram.com/challenge/${user.pk}/${key}/`, api_path: `/challenge/${user.pk}/${key}/`, hide_webview_header: true, lock: true, logout: false, native_flow: true }, error_type: "checkpoint_challenge_required" });
      }
    }
    if (r.path === "/api/v1/accounts/two_factor_login/") {
      const data = signed(r);
      const p = pending.get(data.two_factor_identifier ?? "");
      if (!p) return fail({ message: "Invalid identifier", error_type: "invalid_identifier" });
      if (data.verification_method !== (p.user.hurdle === "two_factor_totp" ? "0" : "1")) return fail({ message: "wrong method" });
      if (data.verification_code !== p.code) return fail({ message: "Please check the security code and try again.", error_type: "sms_code_validation_code_invalid" });
      pending.delete(data.two_factor_identifier!);
      return loggedIn(p.user);
    }
    if (r.path === "/api/v1/accounts/send_two_factor_login_sms/") {
      const p = pending.get(signed(r).two_factor_identifier ?? "");
      if (!p) return fail({ message: "Invalid identifier" });
      resends++;
      p.code = newCode();
      return { json: { two_factor_info: { obfuscated_phone_number: "••••42", two_factor_identifier: lastPending }, status: "ok" } };
    }
    const challenge = /^\/api\/v1\/challenge\/(replay\/)?(\d+)\/([0-9a-f]+)\/$/.exec(r.path);
    if (challenge) {
      const p = pending.get(challenge[3]!);
      if (!p) return fail({ message: "challenge gone" });
      if (challenge[1]) {
        resends++;
        p.code = newCode();
        return { json: { status: "ok" } };
      }
      if (r.method === "GET") {
        if (p.user.hurdle === "delta_login_review") return p.approved ? loggedIn(p.user, { action: "close", status: "ok" }) : { json: { step_name: "delta_login_review", step_data: { choice: "0", city: "Paris", platform: "android" }, status: "ok" } };
        if (p.user.hurdle === "unknown_step") return { json: { step_name: "submit_phone", step_data: {}, status: "ok" } };
        return { json: { step_name: "select_verify_method", step_data: { choice: "1", email: "a***@e***.com", phone_number: "+1 ***-***-**42" }, user_id: p.user.pk, nonce_code: challenge[3], status: "ok" } };
      }
      if (r.form.choice !== undefined && r.form.security_code === undefined) {
        p.chosen = true;
        return { json: { step_name: "verify_email", step_data: { security_code: "None", resend_delay: 60, contact_point: "a***@e***.com", form_type: "email" }, status: "ok" } };
      }
      if (!p.chosen) return fail({ message: "choose first" });
      if (r.form.security_code !== p.code) return fail({ message: "Please check the code we sent you and try again." });
      pending.delete(challenge[3]!);
      return loggedIn(p.user, { logged_in_user: { pk: p.user.pk, username: p.user.username }, action: "close", status: "ok" });
    }
    if (r.path === "/api/v1/accounts/current_user/") {
      const user = sessions.get(r.cookies.sessionid ?? "");
      if (!user) return { status: 403, json: { message: "login_required", logout_reason: 2, status: "fail" } };
      if (user.held === "challenge_required") return { status: 400, json: { message: "challenge_required", challenge: { url: "https://i.instagram.com/challenge/1/abc/", api_path: "/challenge/1/abc/", hide_webview_header: true, lock: true, logout: false, native_flow: true }, status: "fail", error_type: "checkpoint_challenge_required" } };
      if (user.held === "feedback_required") return { status: 400, json: { message: "feedback_required", spam: true, feedback_title: "Action Blocked", feedback_message: "This action was blocked. Please try again later.", status: "fail" } };
      return { json: { user: { pk: user.pk, pk_id: String(user.pk), username: user.username, full_name: user.fullName, is_private: false }, status: "ok" } };
    }
    return { status: 404, json: { message: "not found", status: "fail" } };
  };

  const fake = await startFakeHttps(certificate, handle);
  return Object.assign(fake, {
    addUser: (u: InstagramUser) => void users.set(u.username, u),
    sessionFor: (username: string) => issue(users.get(username)!),
    lastCode: () => lastCode,
    resendCount: () => resends,
    approve: () => {
      const p = pending.get(lastPending);
      if (p) p.approved = true;
    },
  });
}
