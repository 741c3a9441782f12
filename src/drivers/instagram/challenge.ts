import { field, stringField } from "../../domain/connectors/oauth/json.ts";
import { parseJson, type WebSession } from "../http/client.ts";
import type { LoginContext } from "../login/runtime.ts";
import { wrongCode } from "../login/runtime.ts";
import { AppError } from "../../errors/app-error.ts";
import { INSTAGRAM, instagramFailure, unexpected, type InstagramDevice } from "./api.ts";

/**
 * Instagram's checkpoint (`challenge_required` with `challenge.api_path`), passed the way
 * instagram-private-api's `challenge.auto()` does: read the step, choose the e-mail (or
 * phone) when asked, then send the security code (OTP). `delta_login_review` ("was this
 * you?") is answered in the app: IN_APP_VALIDATION, polled until Instagram closes it.
 * Ends when Instagram answers `action: "close"`: the session cookies are then logged in.
 */
export async function passInstagramChallenge(session: WebSession, baseUrl: string, apiPath: string, device: InstagramDevice, context: LoginContext): Promise<void> {
  if (!/^\/challenge\/[\w/-]+$/.test(apiPath)) throw unexpected("named a challenge path this client does not know");
  const url = `${baseUrl}/api/v1${apiPath}`;
  const ids = { guid: device.uuid, device_id: device.deviceId };
  const post = (form: Record<string, string>, to = url) => session.send({ url: to, form: { ...ids, _csrftoken: session.cookies.get("csrftoken") ?? "", ...form } });

  let step = await readStep(session, `${url}?guid=${ids.guid}&device_id=${ids.device_id}`);
  if (stringField(step, "step_name") === "select_verify_method") {
    // Choice "1" is e-mail, "0" the phone; prefer the e-mail when Instagram offers it.
    const choice = stringField(field(step, "step_data"), "email") ? "1" : "0";
    const answer = await post({ choice });
    step = parseJson(answer);
    if (answer.status !== 200) throw instagramFailure(answer, step);
  }
  const name = stringField(step, "step_name") ?? "";
  if (name === "delta_login_review") {
    await context.awaitApproval({
      info: { type: "IN_APP_VALIDATION" },
      poll: async () => (field(await readStep(session, url), "action") === "close" ? true : undefined),
    });
    return;
  }
  if (name !== "verify_email" && name !== "verify_phone" && name !== "verify_code") {
    throw new AppError("action_required", { detail: "Instagram asks for a verification this service cannot relay; confirm it in the app.", metadata: { provider: INSTAGRAM, stepName: name.slice(0, 64) || "unknown" } });
  }
  const contactPoint = stringField(field(step, "step_data"), "contact_point");
  const choice = name === "verify_phone" ? "0" : "1";
  await context.askCode({
    info: { type: "OTP", ...(contactPoint ? { codeSentTo: contactPoint } : {}) },
    attempt: async (code) => {
      const answer = await post({ security_code: code.trim() });
      const body = parseJson(answer);
      if (answer.status === 200 && (field(body, "action") === "close" || field(body, "logged_in_user") !== undefined)) return true;
      if (answer.status === 400 && stringField(body, "status") === "fail" && !field(body, "spam")) throw wrongCode(INSTAGRAM);
      throw instagramFailure(answer, body);
    },
    // instagram-private-api `challenge.replay(choice)`: the same path under /challenge/replay/.
    resend: async () => {
      const answer = await post({ choice }, `${baseUrl}/api/v1${apiPath.replace("/challenge/", "/challenge/replay/")}`);
      if (answer.status !== 200) throw instagramFailure(answer, parseJson(answer));
    },
  });
}

async function readStep(session: WebSession, url: string): Promise<unknown> {
  const answer = await session.send({ url });
  const body = parseJson(answer);
  if (answer.status !== 200) throw instagramFailure(answer, body);
  return body;
}
