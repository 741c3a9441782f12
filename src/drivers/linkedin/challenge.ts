import { AppError } from "../../errors/app-error.ts";
import type { CheckpointKind } from "../../domain/connectors/interactive.ts";
import { firstAttribute, firstForm, type HtmlForm } from "../http/html-form.ts";
import type { WebSession } from "../http/client.ts";
import type { LoginContext } from "../login/runtime.ts";
import { wrongCode } from "../login/runtime.ts";
import { LINKEDIN, unexpected } from "./voyager.ts";

/**
 * LinkedIn's login challenge (`login_result: CHALLENGE` with a `challenge_url`): an HTML
 * page whose form carries hidden tokens and a `challengeType`. The page decides the
 * checkpoint: a PIN by e-mail (OTP), a code from SMS or an authenticator (TWO_FACTOR), an
 * approval in the LinkedIn app (IN_APP_VALIDATION, polled), a captcha (CAPTCHA with its
 * site key). A challenge is passed when LinkedIn sets `li_at`.
 */
const kinds: Array<[RegExp, CheckpointKind]> = [
  [/captcha/i, "CAPTCHA"],
  [/email/i, "OTP"],
  [/sms|phone|authenticator|two_?step|totp/i, "TWO_FACTOR"],
  [/app|push/i, "IN_APP_VALIDATION"],
];

export async function passChallenge(session: WebSession, baseUrl: string, challengeUrl: string, context: LoginContext): Promise<void> {
  const url = new URL(challengeUrl, baseUrl);
  if (url.origin !== new URL(baseUrl).origin) throw unexpected("sent the challenge to another site");
  const page = await session.send({ url: url.toString() });
  if (page.status !== 200) throw unexpected(`answered the challenge page with HTTP ${page.status}`);
  const form = firstForm(page.text);
  const challengeType = form?.fields.challengeType ?? "";
  const kind = kinds.find(([pattern]) => pattern.test(challengeType))?.[1];
  if (!form || !kind) {
    throw new AppError("action_required", { detail: "LinkedIn asks for a verification this service cannot relay; log in once from a browser.", metadata: { provider: LINKEDIN, challengeType: challengeType.slice(0, 64) || "unknown" } });
  }
  if (kind === "IN_APP_VALIDATION") {
    await context.awaitApproval({
      info: { type: kind },
      poll: async () => {
        await session.send({ url: url.toString() });
        return session.cookies.get("li_at") ? true : undefined;
      },
    });
    return;
  }
  const captchaData = kind === "CAPTCHA" ? JSON.stringify({ siteKey: firstAttribute(page.text, "data-sitekey") ?? "", pageUrl: url.toString() }) : undefined;
  const resendPath = form.fields.resendUrl;
  await context.askCode({
    info: { type: kind, ...(captchaData ? { captchaData } : {}) },
    attempt: (code) => submit(session, baseUrl, form, kind === "CAPTCHA" ? { captchaUserResponseToken: code } : { pin: code.trim() }),
    ...(resendPath
      ? {
          resend: async () => {
            const answer = await session.send({ url: new URL(resendPath, baseUrl).toString(), form: { csrfToken: form.fields.csrfToken ?? "" } });
            if (answer.status >= 400) throw unexpected(`answered the resend with HTTP ${answer.status}`);
          },
        }
      : {}),
  });
}

async function submit(session: WebSession, baseUrl: string, form: HtmlForm, answer: Record<string, string>): Promise<true> {
  const result = await session.send({ url: new URL(form.action, baseUrl).toString(), form: { ...form.fields, ...answer } });
  if (session.cookies.get("li_at")) return true;
  if (result.status === 200 || result.status === 400) throw wrongCode(LINKEDIN);
  throw unexpected(`answered the challenge with HTTP ${result.status}`);
}
