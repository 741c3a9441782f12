import { randomBytes } from "node:crypto";
import type { ServerCertificate } from "../mail/pki.ts";
import { startFakeHttps, type FakeHttps, type FakeReply, type FakeRequest } from "./fake-https.ts";

/**
 * LinkedIn as the web drivers see it. Shapes and sources:
 * - GET /uas/authenticate sets JSESSIONID="ajax:…" (quoted); POST /uas/authenticate with
 *   session_key, session_password, JSESSIONID answers {"login_result": "PASS" | "BAD_PASSWORD"
 *   | "BAD_EMAIL" | "CHALLENGE", "challenge_url"} and sets li_at on PASS: tomquirk/linkedin-api,
 *   linkedin_api/client.py (`_request_session_cookies`, `authenticate`).
 * - GET /voyager/api/me with header csrf-token = JSESSIONID: {"plainId", "miniProfile": {firstName,
 *   lastName, publicIdentifier, entityUrn, objectUrn}, "premiumSubscriber"}: tomquirk/linkedin-api,
 *   `get_user_profile`; 401 for a dead li_at.
 * - The challenge page (an HTML form of hidden inputs posted to /checkpoint/challenge/verify with
 *   `pin`, a resendUrl, a challengeType) is modelled on LinkedIn's checkpoint pages as the
 *   password logins of mautrix-linkedin and browser-automation clients meet them; the
 *   challengeType names and the talentContracts shape are this fake's own, not verified.
 */
export type ChallengeType = "EMAIL_PIN" | "SMS_PIN" | "AUTHENTICATOR_APP" | "MOBILE_APP_PUSH" | "CAPTCHA_V2" | "ID_VERIFICATION";

export interface LinkedinMember {
  email: string;
  password: string;
  memberId: number;
  firstName: string;
  lastName: string;
  publicIdentifier: string;
  challenge?: ChallengeType;
  restricted?: boolean;
  contracts?: string[];
}

export interface FakeLinkedin extends FakeHttps {
  addMember(member: LinkedinMember): void;
  /** A valid li_at for the member (a browser's cookie). */
  cookieFor(email: string): string;
  revoke(liAt: string): void;
  /** The PIN the last challenge sent. */
  lastPin(): string;
  resendCount(): number;
  approve(): void;
}

export async function startFakeLinkedin(certificate: ServerCertificate): Promise<FakeLinkedin> {
  const members = new Map<string, LinkedinMember>();
  const sessions = new Map<string, LinkedinMember>();
  const challenges = new Map<string, { member: LinkedinMember; pin: string; approved: boolean }>();
  let lastPin = "";
  let resends = 0;
  let pendingChallenge: string | undefined;

  const issue = (member: LinkedinMember): string => {
    const liAt = `AQED${randomBytes(12).toString("hex")}`;
    sessions.set(liAt, member);
    return liAt;
  };
  const loggedIn = (member: LinkedinMember): FakeReply => ({ status: 302, headers: { location: "/feed/" }, setCookies: [`li_at=${issue(member)}; Domain=.www.linkedin.com; Path=/; Secure; HttpOnly`] });

  const handle = (r: FakeRequest): FakeReply => {
    const csrfOk = () => r.cookies.JSESSIONID !== undefined && r.headers["csrf-token"] === r.cookies.JSESSIONID.replace(/"/g, "");
    if (r.path === "/uas/authenticate" && r.method === "GET") {
      return { json: {}, setCookies: [`JSESSIONID="ajax:${randomBytes(8).toString("hex")}"; Path=/; Secure`, "bcookie=\"v=2&abc\"; Path=/"] };
    }
    if (r.path === "/uas/authenticate" && r.method === "POST") {
      if (r.form.JSESSIONID !== r.cookies.JSESSIONID) return { status: 403, json: { status: 403 } };
      const member = members.get(r.form.session_key ?? "");
      if (!member) return { json: { login_result: "BAD_EMAIL" } };
      if (member.password !== r.form.session_password) return { json: { login_result: "BAD_PASSWORD" } };
      if (member.challenge) {
        const id = randomBytes(6).toString("hex");
        lastPin = String(100000 + Math.floor(Math.random() * 899999));
        challenges.set(id, { member, pin: lastPin, approved: false });
        pendingChallenge = id;
        return { json: { login_result: "CHALLENGE", challenge_url: `/checkpoint/challenge/${id}?ut=x` } };
      }
      return { json: { login_result: "PASS" }, setCookies: [`li_at=${issue(member)}; Path=/; Secure; HttpOnly`] };
    }
    const challengePage = /^\/checkpoint\/challenge\/([0-9a-f]+)$/.exec(r.path);
    if (challengePage && r.method === "GET") {
      const c = challenges.get(challengePage[1]!);
      if (!c) return { status: 404, html: "<html>gone</html>" };
      if (c.approved) return loggedIn(c.member);
      return { html: challengeHtml(challengePage[1]!, c.member.challenge!) };
    }
    if (r.path === "/checkpoint/challenge/verify" && r.method === "POST") {
      const c = challenges.get(r.form.challengeId ?? "");
      if (!c || r.form.csrfToken !== "csrf-challenge") return { status: 400, html: "<html>bad request</html>" };
      const given = r.form.pin || r.form.captchaUserResponseToken;
      if (given !== c.pin) return { html: challengeHtml(r.form.challengeId!, c.member.challenge!, "The verification code you entered isn't valid.") };
      challenges.delete(r.form.challengeId!);
      return loggedIn(c.member);
    }
    if (r.path === "/checkpoint/challenge/resend" && r.method === "POST") {
      const c = challenges.get(r.query.get("challengeId") ?? "");
      if (!c) return { status: 404, html: "" };
      resends++;
      c.pin = lastPin = String(100000 + Math.floor(Math.random() * 899999));
      return { json: { status: "ok" } };
    }
    if (r.path === "/voyager/api/me") {
      if (!csrfOk()) return { status: 403, json: { status: 403 }, html: undefined };
      const member = sessions.get(r.cookies.li_at ?? "");
      if (!member) return { status: 401, json: { status: 401 } };
      if (member.restricted) return { status: 403, json: { status: 403, message: "This account is restricted" } };
      return {
        json: {
          plainId: member.memberId,
          miniProfile: {
            firstName: member.firstName,
            lastName: member.lastName,
            occupation: "Engineer",
            objectUrn: `urn:li:member:${member.memberId}`,
            entityUrn: `urn:li:fs_miniProfile:ACoAA${member.memberId}`,
            publicIdentifier: member.publicIdentifier,
            trackingId: "abc==",
          },
          premiumSubscriber: false,
          publicContactInfo: {},
        },
      };
    }
    if (r.path === "/talent/api/talentContracts") {
      const member = sessions.get(r.cookies.li_at ?? "");
      if (!member || !csrfOk()) return { status: 401, json: { status: 401 } };
      if (!member.contracts) return { status: 403, json: { status: 403 } };
      return { json: { elements: member.contracts.map((id) => ({ entityUrn: `urn:li:ts_contract:${id}`, name: `Contract ${id}` })) } };
    }
    return { status: 404, json: { status: 404 } };
  };

  const fake = await startFakeHttps(certificate, handle);
  return Object.assign(fake, {
    addMember: (m: LinkedinMember) => void members.set(m.email, m),
    cookieFor: (email: string) => issue(members.get(email)!),
    revoke: (liAt: string) => void sessions.delete(liAt),
    lastPin: () => lastPin,
    resendCount: () => resends,
    approve: () => {
      const c = challenges.get(pendingChallenge ?? "");
      if (c) c.approved = true;
    },
  });
}

function challengeHtml(id: string, type: ChallengeType, error?: string): string {
  const pinInput = type === "MOBILE_APP_PUSH" || type === "CAPTCHA_V2" ? "" : '<input type="text" name="pin" id="input__email_verification_pin" maxlength="6">';
  const resend = type === "EMAIL_PIN" || type === "SMS_PIN" ? `<input type="hidden" name="resendUrl" value="/checkpoint/challenge/resend?challengeId=${id}&amp;displayTime=1">` : "";
  const captcha = type === "CAPTCHA_V2" ? '<div class="g-recaptcha" data-sitekey="6Lc7CQMTAAAAAIL84V_tPRYEWZtljsJQJZ5jSijw"></div>' : "";
  return `<!DOCTYPE html><html><body>${error ? `<p class="form__error">${error}</p>` : ""}
<form method="POST" action="/checkpoint/challenge/verify" class="pin-verification-form">
<input type="hidden" name="csrfToken" value="csrf-challenge">
<input type="hidden" name="pageInstance" value="urn:li:page:d_checkpoint_ch_emailPinChallenge;abc">
<input type="hidden" name="challengeId" value="${id}">
<input type="hidden" name="challengeType" value="${type}">
<input type="hidden" name="challengeSource" value="CHALLENGE_LOGIN">
${resend}${pinInput}${captcha}
<button type="submit">Submit</button></form></body></html>`;
}
