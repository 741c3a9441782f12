import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TwitterAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { isAppError } from "../../src/errors/app-error.ts";
import { createDriverLab, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeX, type FakeX, type XHurdle } from "../support/drivers/fake-x.ts";
import { checkpointLifecycle } from "../support/drivers/checkpoint-lifecycle.ts";
import { WEB_HOSTS, startWebHost, type WebHost } from "../support/drivers/web-hosts.ts";

const PASSWORD = "x-Planted-Password-8812";
let lab: DriverLab;
let fake: FakeX;
let n = 0;

function user(hurdle?: XHurdle) {
  const id = ++n;
  const u = { username: `hedy${id}`, password: PASSWORD, email: `hedy${id}@example.com`, id: String(1_700_000_000_000_000_000n + BigInt(id)), ...(hurdle ? { hurdle } : {}) };
  fake.addUser(u);
  return u;
}
const login = (u: { username: string; email: string }, password = PASSWORD) => create(TwitterAuthSchema, { username: u.username, email: u.email, password });

beforeAll(async () => {
  lab = await createDriverLab();
  fake = await startFakeX(lab.pki.server);
});
afterAll(async () => {
  await fake.close();
  await lab.close();
});

describe.each(WEB_HOSTS)("X on the %s host", (kind) => {
  let host: WebHost;
  beforeAll(async () => {
    host = await startWebHost(kind, lab, { TWITTER_API_BASE_URL: fake.url, TWITTER_WEB_BASE_URL: fake.url });
  });
  afterAll(() => host.close());
  const x = (init: MessageInitShape<typeof TwitterAuthSchema>, options?: { shortTtl?: boolean }) => host.drive({ case: "twitter", value: init }, options);

  describe("twitter", () => {
    it("logs in through the library against the local X: the user id is the identity, auth_token and ct0 the credential", async () => {
      const u = user();
      const d = x(login(u));
      const state = await settled(d);
      expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.id, handle: u.username } });
      const cookies = (JSON.parse(state.session!.data) as { cookies: Record<string, string> }).cookies;
      expect(cookies.auth_token).toMatch(/^[0-9a-f]{40}$/);
      expect(cookies.ct0).toMatch(/^[0-9a-f]{64}$/);
      const password = fake.requests.find((r) => (r.json as { subtask_inputs?: Array<{ subtask_id: string }> } | undefined)?.subtask_inputs?.[0]?.subtask_id === "LoginEnterPassword");
      expect(password).toBeDefined();
      expectNoSecrets(d, [PASSWORD, cookies.auth_token!, cookies.ct0!]);
    });

    it("a wrong password and an unknown user are invalid_credentials; locked and suspended account_restricted", async () => {
      const u = user();
      const wrong = x(login(u, "wrong-Planted-Password"));
      expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { errorCode: "399", subtask: "LoginEnterPassword" } });
      expectNoSecrets(wrong, ["wrong-Planted-Password"]);
      expect(await settled(x(login({ username: "nobody", email: "n@example.com" })))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
      expect(await settled(x(login(user("locked"))))).toMatchObject({ status: "FAILED", errorKind: "account_restricted", errorMetadata: { errorCode: "326" } });
      expect(await settled(x(login(user("suspended"))))).toMatchObject({ status: "FAILED", errorKind: "account_restricted", errorMetadata: { subtask: "DenyLoginSubtask" } });
    });

    it("an unknown subtask (Arkose captcha) is action_required with its name; a login X holds as suspicious (399 elsewhere than the password) too", async () => {
      expect(await settled(x(login(user("arkose"))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { subtask: "ArkoseLogin" } });
      expect(await settled(x(login(user("suspicious"))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { errorCode: "399", subtask: "LoginEnterUserIdentifierSSO" } });
    });

    it("the e-mail confirmation code (LoginAcid) is an OTP: a wrong code leaves it open, no resend, the right one connects", async () => {
      const u = user("email_code");
      const d = x(login(u));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("OTP");
      const wrong = await d.solve("000000").catch((e: unknown) => e);
      expect(isAppError(wrong) && wrong.kind).toBe("invalid_checkpoint_code");
      expect((await d.current()).status).toBe("CHECKPOINT");
      const resend = await d.resend().catch((e: unknown) => e);
      expect(isAppError(resend) && resend.kind).toBe("no_pending_checkpoint");
      const code = fake.code();
      expect(await d.solve(code)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.id } });
      expectNoSecrets(d, [PASSWORD, code]);
    });

    it("LoginAcid asking for the account's e-mail address is answered with the variant's email, without a checkpoint", async () => {
      const u = user("email_address");
      const d = x(login(u));
      expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.id } });
      expect(d.states.some((s) => s.status === "CHECKPOINT")).toBe(false);
    });

    it("the two-factor challenge is TWO_FACTOR solved through solve", async () => {
      const u = user("two_factor");
      const d = x(login(u));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
      expect(await d.solve(fake.code())).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.id } });
    });

    // X offers no resend in either step the scraper relays.
    checkpointLifecycle([
      { hurdle: "email_code", type: "OTP", start: (o) => x(login(user("email_code")), o) },
      { hurdle: "two_factor", type: "TWO_FACTOR", start: (o) => x(login(user("two_factor")), o) },
    ]);
  });
});
