import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyProtocol, ProxySchema } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSchema, MessengerBasicAuthSchema, MessengerSessionAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { isAppError } from "../../src/errors/app-error.ts";
import { createDriverLab, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeFacebook, type FacebookHurdle, type FakeFacebook } from "../support/drivers/fake-facebook.ts";
import { startConnectProxy } from "../support/proxy/connect-proxy.ts";
import { startSocks5Proxy } from "../support/proxy/socks5-proxy.ts";
import { checkpointLifecycle } from "../support/drivers/checkpoint-lifecycle.ts";
import { throughEachProxy } from "../support/drivers/proxied-logins.ts";
import { WEB_HOSTS, startWebHost, type WebHost } from "../support/drivers/web-hosts.ts";

const PASSWORD = "fb-Planted-Password-3321";
const PROXY_PASSWORD = "fb-proxy-Planted-Secret-6620";
let lab: DriverLab;
let fake: FakeFacebook;
let n = 0;

function user(extra: { hurdle?: FacebookHurdle; held?: "checkpoint" | "consent" } = {}) {
  const id = ++n;
  const u = { email: `alan${id}@example.com`, password: PASSWORD, uid: String(100_000_000_000_000 + id), name: `Alan Turing ${id}`, ...extra };
  fake.addUser(u);
  return u;
}
const sessionOf = (cookies: Array<{ name: string; value: string }>, extra: object = {}) => create(MessengerSessionAuthSchema, { cookies: cookies.map((c) => create(CookieSchema, c)), ...extra });
const basic = (email: string, password = PASSWORD, extra: object = {}) => create(MessengerBasicAuthSchema, { username: email, password, ...extra });

beforeAll(async () => {
  lab = await createDriverLab();
  fake = await startFakeFacebook(lab.pki.server);
});
afterAll(async () => {
  await fake.close();
  await lab.close();
});

describe.each(WEB_HOSTS)("Messenger on the %s host", (kind) => {
  let host: WebHost;
  beforeAll(async () => {
    host = await startWebHost(kind, lab, { FACEBOOK_BASE_URL: fake.url, FACEBOOK_GRAPH_BASE_URL: fake.url });
  });
  afterAll(() => host.close());
  const session = (init: MessageInitShape<typeof MessengerSessionAuthSchema>) => host.drive({ case: "messengerSession", value: init });
  const password = (init: MessageInitShape<typeof MessengerBasicAuthSchema>, options?: { shortTtl?: boolean }) => host.drive({ case: "messengerBasic", value: init }, options);

  throughEachProxy(
    {
      provider: "Facebook",
      origin: () => fake.url,
      secrets: [PASSWORD],
      start(proxy) {
        const u = user();
        return { providerUserId: u.uid, logins: [session(sessionOf(fake.cookiesFor(u.email), { proxy })), password(basic(u.email, PASSWORD, { proxy }))] };
      },
    },
    PROXY_PASSWORD,
  );

  describe("messenger_session", () => {
    it("the messages page confirms c_user is logged in: the user id is the identity; headers and cookies sent, through an HTTPS proxy", async () => {
      const u = user();
      const cookies = fake.cookiesFor(u.email);
      const proxy = await startConnectProxy({ tls: lab.pki.server });
      try {
        const d = session(sessionOf(cookies, { headers: { "x-fb-extra": "hdr-Planted-Secret" }, userName: "Alan", proxy: create(ProxySchema, { protocol: ProxyProtocol.HTTPS, host: proxy.host, port: proxy.port }) }));
        const state = await settled(d);
        expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid, displayName: u.name } });
        const page = fake.requests.at(-1)!;
        expect(page.headers["x-fb-extra"]).toBe("hdr-Planted-Secret");
        expect(page.cookies.xs).toBe(cookies[1]!.value);
        expect(proxy.tunnels).toEqual([new URL(fake.url).host]);
        expect(JSON.parse(state.session!.data)).toMatchObject({ cookies: { c_user: u.uid, xs: cookies[1]!.value }, headers: { "x-fb-extra": "hdr-Planted-Secret" } });
        expectNoSecrets(d, [cookies[1]!.value, "hdr-Planted-Secret"]);
      } finally {
        await proxy.close();
      }
    });

    it("logged out is invalid_credentials; a checkpoint or consent page is action_required naming it", async () => {
      const u = user();
      const cookies = fake.cookiesFor(u.email);
      fake.logout(cookies[1]!.value);
      const d = session(sessionOf(cookies));
      expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
      expectNoSecrets(d, [cookies[1]!.value]);
      const held = user({ held: "checkpoint" });
      expect(await settled(session(sessionOf(fake.cookiesFor(held.email))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "checkpoint" } });
      const consent = user({ held: "consent" });
      expect(await settled(session(sessionOf(fake.cookiesFor(consent.email))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "consent" } });
    });

    it("cookies of another user than c_user, or without c_user, are invalid_credentials", async () => {
      const a = user();
      const b = user();
      const mixed = [...fake.cookiesFor(a.email).filter((c) => c.name !== "c_user"), { name: "c_user", value: b.uid }];
      expect(await settled(session(sessionOf(mixed)))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
      const noUser = fake.cookiesFor(a.email).filter((c) => c.name !== "c_user");
      expect(await settled(session(sessionOf(noUser)))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
    });
  });

  describe("messenger_basic", () => {
    it("the app login gives session cookies, checked on the messages page; through a SOCKS5 proxy", async () => {
      const u = user();
      const proxy = await startSocks5Proxy();
      try {
        const d = password(basic(u.email, PASSWORD, { proxy: create(ProxySchema, { protocol: ProxyProtocol.SOCKS5, host: proxy.host, port: proxy.port }) }));
        const state = await settled(d);
        expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid, displayName: u.name } });
        const stored = JSON.parse(state.session!.data) as { cookies: Record<string, string>; accessToken: string };
        expect(stored.cookies.c_user).toBe(u.uid);
        expect(stored.accessToken).toMatch(/^EAAAAU/);
        expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
        expectNoSecrets(d, [PASSWORD, stored.cookies.xs!, stored.accessToken]);
      } finally {
        await proxy.close();
      }
    });

    it("wrong password is invalid_credentials; a checkpoint action_required; a block account_restricted", async () => {
      const u = user();
      const wrong = password(basic(u.email, "wrong-Planted-Password"));
      expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { graphCode: "401" } });
      expectNoSecrets(wrong, ["wrong-Planted-Password"]);
      expect(await settled(password(basic(user({ hurdle: "checkpoint" }).email)))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "checkpoint" } });
      expect(await settled(password(basic(user({ hurdle: "blocked" }).email)))).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
    });

    it("login approvals code is TWO_FACTOR: a wrong code leaves it open, no resend, the right code connects", async () => {
      const u = user({ hurdle: "two_factor" });
      const d = password(basic(u.email));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
      const wrong = await d.solve("000000").catch((e: unknown) => e);
      expect(isAppError(wrong) && wrong.kind).toBe("invalid_checkpoint_code");
      const resend = await d.resend().catch((e: unknown) => e);
      expect(isAppError(resend) && resend.kind).toBe("no_pending_checkpoint");
      const code = fake.code();
      expect(await d.solve(code)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid } });
      expectNoSecrets(d, [PASSWORD, code]);
    });

    it("approve from another device is IN_APP_VALIDATION, connected once approved", async () => {
      const u = user({ hurdle: "approve_device" });
      const d = password(basic(u.email));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("IN_APP_VALIDATION");
      fake.approve();
      expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid } });
    });

    checkpointLifecycle([
      { hurdle: "two_factor", type: "TWO_FACTOR", start: (o) => password(basic(user({ hurdle: "two_factor" }).email), o) },
      { hurdle: "approve_device", type: "IN_APP_VALIDATION", start: (o) => password(basic(user({ hurdle: "approve_device" }).email), o) },
    ]);

    it("the browser session and the password of one user name the same identity (one account)", async () => {
      const u = user();
      const bySession = await settled(session(sessionOf(fake.cookiesFor(u.email))));
      const byPassword = await settled(password(basic(u.email)));
      expect(bySession.identity?.providerUserId).toBe(u.uid);
      expect(byPassword.identity).toEqual(bySession.identity);
    });
  });
});
