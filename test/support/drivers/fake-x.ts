import { randomBytes } from "node:crypto";
import type { ServerCertificate } from "../mail/pki.ts";
import { startFakeHttps, type FakeHttps, type FakeReply, type FakeRequest } from "./fake-https.ts";

/**
 * X's login flow as @the-convocation/twitter-scraper drives it (src/auth-user.ts: preflight
 * GET x.com/i/flow/login with `document.cookie="gt=…"`, then POST api.x.com/1.1/onboarding/
 * task.json?flow_name=login and each subtask's answer to onboarding/task.json with the
 * flow_token). Subtask shapes (LoginJsInstrumentationSubtask, LoginEnterUserIdentifierSSO,
 * LoginEnterPassword, AccountDuplicationCheck, LoginAcid with enter_text.keyboard_type,
 * LoginTwoFactorAuthChallenge, LoginSuccessSubtask, DenyLoginSubtask) are the library's;
 * errors {"errors":[{"code":399,"message":"Wrong password!"}]} and 399 "Incorrect. Please try
 * again." for a wrong e-mail code are those reported in vladkens/twscrape#60 and
 * the-convocation/twitter-scraper#118; 326 (locked) is X's API error code; ArkoseLogin is the
 * captcha subtask the library does not know; 399 "Could not log you in now" after the user name
 * is the suspicious-login answer reported in twscrape#60. Cookies auth_token, ct0 and twid="u=<id>" are
 * set for .x.com on success.
 */
export type XHurdle = "email_code" | "email_address" | "two_factor" | "arkose" | "locked" | "suspended" | "suspicious";

export interface XUser {
  username: string;
  password: string;
  email: string;
  id: string;
  hurdle?: XHurdle;
}

export interface FakeX extends FakeHttps {
  addUser(user: XUser): void;
  code(): string;
}

export async function startFakeX(certificate: ServerCertificate): Promise<FakeX> {
  const users = new Map<string, XUser>();
  const flows = new Map<string, { user?: XUser; next: string }>();
  let code = "";

  const step = (flow: { user?: XUser; next: string }, subtask: object, token = `flow${randomBytes(8).toString("hex")}`): FakeReply => {
    flows.set(token, flow);
    return { json: { flow_token: token, status: "success", subtasks: [subtask] } };
  };
  const error = (codeNumber: number, message: string): FakeReply => ({ status: 400, json: { errors: [{ code: codeNumber, message }] } });
  const afterPassword = (user: XUser): object => {
    switch (user.hurdle) {
      case "email_code":
        code = String(100000 + Math.floor(Math.random() * 899999));
        return { subtask_id: "LoginAcid", enter_text: { primary_text: { text: "Check your email" }, secondary_text: { text: "You'll receive a code to confirm your identity" }, hint_text: "Confirmation code", keyboard_type: "text", next_link: { link_type: "task", link_id: "next_link" } } };
      case "email_address":
        return { subtask_id: "LoginAcid", enter_text: { primary_text: { text: "Enter your email" }, hint_text: "Email", keyboard_type: "email", next_link: { link_type: "task", link_id: "next_link" } } };
      case "two_factor":
        code = String(100000 + Math.floor(Math.random() * 899999));
        return { subtask_id: "LoginTwoFactorAuthChallenge", enter_text: { hint_text: "Enter code", keyboard_type: "number" } };
      case "arkose":
        return { subtask_id: "ArkoseLogin", web_modal: { url: "https://client-api.arkoselabs.com/…" } };
      case "suspended":
        return { subtask_id: "DenyLoginSubtask", cta: { primary_text: { text: "Your account is suspended" } } };
      default:
        return { subtask_id: "LoginSuccessSubtask", open_account: {} };
    }
  };
  const success = (user: XUser): FakeReply => ({
    json: { flow_token: `done${randomBytes(4).toString("hex")}`, status: "success", subtasks: [] },
    setCookies: [
      `auth_token=${randomBytes(20).toString("hex")}; Max-Age=157680000; Expires=Mon, 30 Nov 2031 22:00:00 GMT; Path=/; Domain=.x.com; Secure; HttpOnly; SameSite=None`,
      `ct0=${randomBytes(32).toString("hex")}; Max-Age=157680000; Expires=Mon, 30 Nov 2031 22:00:00 GMT; Path=/; Domain=.x.com; Secure; SameSite=Lax`,
      `twid="u=${user.id}"; Max-Age=157680000; Expires=Mon, 30 Nov 2031 22:00:00 GMT; Path=/; Domain=.x.com; Secure; SameSite=None`,
    ],
  });

  const handle = (r: FakeRequest): FakeReply => {
    if (r.path === "/i/flow/login") return { html: `<html><script>document.cookie="gt=1234567890123456789; Max-Age=10800; Domain=.x.com; Path=/; Secure";</script></html>`, setCookies: ["guest_id=v1%3A1234; Domain=.x.com; Path=/; Secure"] };
    if (r.path === "/1.1/guest/activate.json") return { json: { guest_token: "1234567890123456789" } };
    if (r.path !== "/1.1/onboarding/task.json") return { status: 404, json: { errors: [{ code: 34, message: "Sorry, that page does not exist." }] } };
    if (!r.headers.authorization?.startsWith("Bearer ")) return error(215, "Bad Authentication data.");
    const body = r.json as { flow_token?: string; subtask_inputs?: Array<Record<string, unknown> & { subtask_id: string }> } | undefined;
    if (r.query.get("flow_name") === "login") {
      return step({ next: "LoginJsInstrumentationSubtask" }, { subtask_id: "LoginJsInstrumentationSubtask", js_instrumentation: { url: "https://twitter.com/i/js_inst?c_name=ui_metrics", timeout_ms: 2000, next_link: { link_type: "task", link_id: "next_link" } } });
    }
    const flow = flows.get(body?.flow_token ?? "");
    const input = body?.subtask_inputs?.[0];
    if (!flow || !input) return error(399, "Could not log you in now. Please try again later.");
    if (input.subtask_id !== flow.next) return error(366, `Required input '${flow.next}' not provided.`);
    switch (input.subtask_id) {
      case "LoginJsInstrumentationSubtask":
        flows.delete(body!.flow_token!);
        return step({ next: "LoginEnterUserIdentifierSSO" }, { subtask_id: "LoginEnterUserIdentifierSSO", settings_list: { settings: [{ value_identifier: "user_identifier" }] } });
      case "LoginEnterUserIdentifierSSO": {
        const text = ((input.settings_list as { setting_responses?: Array<{ response_data?: { text_data?: { result?: string } } }> })?.setting_responses?.[0]?.response_data?.text_data?.result ?? "").toLowerCase();
        const user = users.get(text);
        if (!user) return error(399, "Sorry, we could not find your account.");
        if (user.hurdle === "suspicious") return error(399, "Could not log you in now. Please try again later.");
        flows.delete(body!.flow_token!);
        return step({ user, next: "LoginEnterPassword" }, { subtask_id: "LoginEnterPassword", enter_password: { hint_text: "Password" } });
      }
      case "LoginEnterPassword": {
        const password = (input.enter_password as { password?: string })?.password;
        if (password !== flow.user!.password) return error(399, "Wrong password!");
        if (flow.user!.hurdle === "locked") return error(326, "To protect our users from spam and other malicious activity, this account is temporarily locked. Please log in to https://x.com to unlock your account.");
        flows.delete(body!.flow_token!);
        return step({ user: flow.user, next: "AccountDuplicationCheck" }, { subtask_id: "AccountDuplicationCheck", check_logged_in_account: { true_link: { link_id: "AccountDuplicationCheck_true" }, false_link: { link_id: "AccountDuplicationCheck_false" } } });
      }
      case "AccountDuplicationCheck": {
        flows.delete(body!.flow_token!);
        const next = afterPassword(flow.user!) as { subtask_id: string };
        if (next.subtask_id === "LoginSuccessSubtask") return success(flow.user!);
        return step({ user: flow.user, next: next.subtask_id }, next);
      }
      case "LoginAcid":
      case "LoginTwoFactorAuthChallenge": {
        const text = (input.enter_text as { text?: string })?.text;
        const expected = flow.user!.hurdle === "email_address" ? flow.user!.email : code;
        if (text !== expected) return error(399, "Incorrect. Please try again.");
        flows.delete(body!.flow_token!);
        return success(flow.user!);
      }
      default:
        return error(366, "unexpected subtask");
    }
  };
  const fake = await startFakeHttps(certificate, handle);
  return Object.assign(fake, {
    addUser: (u: XUser) => void users.set(u.username.toLowerCase(), u),
    code: () => code,
  });
}
