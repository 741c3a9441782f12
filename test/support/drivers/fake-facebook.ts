import { randomBytes } from "node:crypto";
import type { ServerCertificate } from "../mail/pki.ts";
import { startFakeHttps, type FakeHttps, type FakeReply, type FakeRequest } from "./fake-https.ts";

/**
 * Facebook as the Messenger drivers see it; one server plays www.facebook.com and
 * b-graph.facebook.com. Shapes and sources:
 * - GET /messages/ with the session cookies: the inbox page whose bootstrap JSON holds
 *   ["CurrentUserInitialData",[],{"ACCOUNT_ID","USER_ID","NAME","SHORT_NAME",…}]; a dead session
 *   is redirected to /login.php?next=…, a held one to /checkpoint/… or the consent page:
 *   mautrix/meta, pkg/messagix (cookie check and `ErrCheckpointRequired`/`ErrConsentRequired`/
 *   `ErrTokenInvalidated` from the redirect target).
 * - POST /auth/login (b-graph): {session_key, uid, secret, access_token, machine_id,
 *   session_cookies: [{name, value, domain, path, …}], confirmed} on success; Graph errors
 *   {error: {message, type: "OAuthException", code, error_subcode, error_data (a JSON string)}}
 *   with code 401 (wrong password), 406 (login approvals: error_data {uid, login_first_factor,
 *   machine_id}), 405 (checkpoint), 368 (blocked): mautrix/facebook, maufbapi/http/login.py and
 *   maufbapi/http/errors.py. The approve-on-another-device answer (`approval_method: "device"`)
 *   and its polling call are this fake's model, not a verified shape.
 */
export type FacebookHurdle = "two_factor" | "approve_device" | "checkpoint" | "blocked";

export interface FacebookUser {
  email: string;
  password: string;
  uid: string;
  name: string;
  hurdle?: FacebookHurdle;
  /** The session's page is held at this block. */
  held?: "checkpoint" | "consent";
}

export interface FakeFacebook extends FakeHttps {
  addUser(user: FacebookUser): void;
  /** A browser's cookies for the user. */
  cookiesFor(email: string): Array<{ name: string; value: string }>;
  logout(xs: string): void;
  code(): string;
  approve(): void;
}

export async function startFakeFacebook(certificate: ServerCertificate): Promise<FakeFacebook> {
  const users = new Map<string, FacebookUser>();
  const sessions = new Map<string, FacebookUser>();
  let code = "";
  // Approval is per user: the latest to be asked to approve on another device is the one approve() approves.
  let awaitingApproval: string | undefined;
  const approved = new Set<string>();

  const cookiesFor = (user: FacebookUser) => {
    const xs = `${Math.floor(Math.random() * 50)}%3A${randomBytes(10).toString("hex")}`;
    sessions.set(xs, user);
    return [
      { name: "c_user", value: user.uid },
      { name: "xs", value: xs },
      { name: "datr", value: randomBytes(8).toString("hex") },
      { name: "fr", value: randomBytes(8).toString("hex") },
    ];
  };
  const graphError = (status: number, error: object): FakeReply => ({ status, json: { error: { type: "OAuthException", is_transient: false, fbtrace_id: "AbCdEf", ...error } } });

  const handle = (r: FakeRequest): FakeReply => {
    if (r.path === "/messages/") {
      const user = sessions.get(r.cookies.xs ?? "");
      if (!user || user.uid !== r.cookies.c_user) return { status: 302, headers: { location: "https://www.facebook.com/login.php?next=https%3A%2F%2Fwww.facebook.com%2Fmessages%2F" } };
      if (user.held === "checkpoint") return { status: 302, headers: { location: "https://www.facebook.com/checkpoint/1501092823525282/?next=%2Fmessages%2F" } };
      if (user.held === "consent") return { status: 302, headers: { location: "https://www.facebook.com/privacy/consent/pipa/?params%5Bpft_surface%5D=facebook_comet" } };
      const data = { ACCOUNT_ID: user.uid, USER_ID: user.uid, NAME: user.name, SHORT_NAME: user.name.split(" ")[0], IS_BUSINESS_PERSON_ACCOUNT: false, HAS_SECONDARY_BUSINESS_PERSON: false, IS_FACEBOOK_WORK_ACCOUNT: false, IS_MESSENGER_ONLY_USER: false, APP_ID: "2220391788200892" };
      return { html: `<!DOCTYPE html><html><head><script>requireLazy(["ServerJSDefine"],function(m){m.handleDefines([["CurrentUserInitialData",[],${JSON.stringify(data)},270]])});</script></head><body><div id="mount_0_0_x"></div></body></html>` };
    }
    if (r.path === "/auth/login" && r.method === "POST") {
      if (!r.headers.authorization?.startsWith("OAuth ")) return graphError(400, { message: "An active access token must be used", code: 2500 });
      const user = users.get(r.form.email ?? "");
      const success = (u: FacebookUser): FakeReply => ({
        json: { session_key: randomBytes(8).toString("hex"), uid: Number(u.uid), secret: randomBytes(8).toString("hex"), access_token: `EAAAAU${randomBytes(16).toString("hex")}`, machine_id: r.form.machine_id, session_cookies: cookiesFor(u).map((c) => ({ ...c, expires: "Wed, 01 Dec 2027 00:00:00 GMT", expires_timestamp: 1827619200, domain: ".facebook.com", path: "/", secure: true, httponly: c.name === "xs" })), confirmed: true, identifier: u.email, user_storage_key: randomBytes(8).toString("hex") },
      });
      if (r.form.credentials_type === "two_factor" || r.form.credentials_type === "login_approval_poll") {
        const waiting = users.get(r.form.email ?? "");
        if (!waiting || r.form.first_factor !== "ff-token" || r.form.userid !== waiting.uid) return graphError(400, { message: "Invalid parameter", code: 100 });
        if (r.form.credentials_type === "login_approval_poll") return approved.has(waiting.uid) ? success(waiting) : approvals(waiting, "device");
        if (r.form.twofactor_code !== code) return graphError(401, { message: "Invalid code", code: 401, error_subcode: 1348127, error_user_title: "Incorrect code" });
        return success(waiting);
      }
      if (!user || user.password !== r.form.password) return graphError(401, { message: "Invalid username or password", code: 401, error_subcode: 1348131, error_data: JSON.stringify({ error_title: "Incorrect Password" }), error_user_title: "Incorrect Password" });
      if (user.hurdle === "two_factor") {
        code = String(100000 + Math.floor(Math.random() * 899999));
        return approvals(user, "code");
      }
      if (user.hurdle === "approve_device") {
        awaitingApproval = user.uid;
        return approvals(user, "device");
      }
      if (user.hurdle === "checkpoint") return graphError(400, { message: "User must verify their account on www.facebook.com", code: 405, error_subcode: 1348007, error_data: JSON.stringify({ uid: Number(user.uid) }) });
      if (user.hurdle === "blocked") return graphError(400, { message: "You're Temporarily Blocked", code: 368, error_subcode: 1390008 });
      return success(user);
    }
    return { status: 404, html: "<html>not found</html>" };
  };
  const approvals = (user: FacebookUser, method: "code" | "device"): FakeReply =>
    graphError(401, { message: "Login approvals are on. Expect an SMS shortly with a code to use for log in", code: 406, error_subcode: 1348162, error_data: JSON.stringify({ machine_id: "m1", uid: Number(user.uid), login_first_factor: "ff-token", auth_token: "at1", support_uri: "https://www.facebook.com/login/approvals", ...(method === "device" ? { approval_method: "device" } : {}) }) });

  const fake = await startFakeHttps(certificate, handle);
  return Object.assign(fake, {
    addUser: (u: FacebookUser) => void users.set(u.email, u),
    cookiesFor: (email: string) => cookiesFor(users.get(email)!),
    logout: (xs: string) => void sessions.delete(xs),
    code: () => code,
    approve: () => void (awaitingApproval && approved.add(awaitingApproval)),
  });
}
