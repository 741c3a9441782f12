/**
 * The web drivers behind the real server (ConnectAccount, SolveCheckpoint, WatchAccount over
 * gRPC and Connect), on both hosts: in process, and in the gateway process (`npm run gateway`
 * on a real port, configured through its environment to the local fakes and the test CA).
 *
 * One member, two credentials: the cookie (or browser session) creates the account; the
 * password, through its checkpoint, then finds the same provider member and ends in
 * already_exists naming that account — on both wires. X has one variant only (user name and
 * password), so its row shows a second password login of the same user instead.
 * Planted secrets (passwords, cookies, proxy password) are looked for in every response,
 * every event, the logs of both processes and the raw bytes of the store.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { checkpointOf, expectError, expectOk, leaks, rpc, secret, stringify, type ConnectRequest } from "../checkpoints/support/helpers.ts";
import { watchAccount, type Watch } from "../checkpoints/support/watch.ts";
import { createDriverLab, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeFacebook, type FakeFacebook } from "../support/drivers/fake-facebook.ts";
import { startFakeInstagram, type FakeInstagram } from "../support/drivers/fake-instagram.ts";
import { startFakeLinkedin, type FakeLinkedin } from "../support/drivers/fake-linkedin.ts";
import { startFakeX, type FakeX } from "../support/drivers/fake-x.ts";
import { WEB_HOSTS, startWebHost, type WebHost } from "../support/drivers/web-hosts.ts";
import { startConnectProxy, type TestProxy } from "../support/proxy/connect-proxy.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let lab: DriverLab;
let linkedin: FakeLinkedin;
let instagram: FakeInstagram;
let facebook: FakeFacebook;
let x: FakeX;
let proxy: TestProxy;
const PROXY_USER = "proxy-user";
const PROXY_PASSWORD = secret("proxy-password");
let n = 0;

beforeAll(async () => {
  lab = await createDriverLab();
  [linkedin, instagram, facebook, x] = await Promise.all([startFakeLinkedin(lab.pki.server), startFakeInstagram(lab.pki.server), startFakeFacebook(lab.pki.server), startFakeX(lab.pki.server)]);
  proxy = await startConnectProxy({ credentials: { username: PROXY_USER, password: PROXY_PASSWORD } });
});
afterAll(async () => {
  await Promise.all([linkedin.close(), instagram.close(), facebook.close(), x.close(), proxy.close()]);
  await lab.close();
});

/** One provider member known to the fake, and the two ways to connect it. */
interface Member {
  providerUserId: string;
  /** The first credential (a cookie or browser session; X: the password). */
  first: ConnectRequest;
  /** The password login, which stops at a checkpoint. */
  password: ConnectRequest;
  /** The code the fake sent for the last checkpoint. */
  code(): string;
  /** What must never show up anywhere. */
  secrets: string[];
}

const viaProxy = () => ({ protocol: ProxyProtocol.HTTP, host: proxy.host, port: proxy.port, username: PROXY_USER, password: PROXY_PASSWORD });

const MEMBERS: Record<string, () => Member> = {
  LinkedIn() {
    const id = ++n;
    const password = secret("li-password");
    const m = { email: `ada${id}@example.com`, password, memberId: 70_000 + id, firstName: "Ada", lastName: `L${id}`, publicIdentifier: `ada-${id}`, challenge: "EMAIL_PIN" as const };
    linkedin.addMember(m);
    const liAt = linkedin.cookieFor(m.email);
    const premium = secret("li-a");
    return {
      providerUserId: String(m.memberId),
      first: { variant: { case: "linkedinCookie", value: { accessToken: liAt, premiumToken: premium, proxy: viaProxy() } } },
      password: { variant: { case: "linkedinBasic", value: { username: m.email, password, proxy: viaProxy() } } },
      code: () => linkedin.lastPin(),
      secrets: [password, liAt, premium, PROXY_PASSWORD],
    };
  },
  Instagram() {
    const id = ++n;
    const password = secret("ig-password");
    const u = { username: `grace_${id}`, password, pk: 5_000_000 + id, fullName: `Grace ${id}`, hurdle: "two_factor_sms" as const };
    instagram.addUser(u);
    const sessionid = instagram.sessionFor(u.username);
    return {
      providerUserId: String(u.pk),
      first: { variant: { case: "instagramCookie", value: { sessionid, proxy: viaProxy() } } },
      password: { variant: { case: "instagramBasic", value: { username: u.username, password, proxy: viaProxy() } } },
      code: () => instagram.lastCode(),
      secrets: [password, sessionid, PROXY_PASSWORD],
    };
  },
  Messenger() {
    const id = ++n;
    const password = secret("fb-password");
    const u = { email: `alan${id}@example.com`, password, uid: String(200_000_000_000_000 + id), name: `Alan ${id}`, hurdle: "two_factor" as const };
    facebook.addUser(u);
    const cookies = facebook.cookiesFor(u.email);
    return {
      providerUserId: u.uid,
      first: { variant: { case: "messengerSession", value: { cookies, userName: "Alan", proxy: viaProxy() } } },
      password: { variant: { case: "messengerBasic", value: { username: u.email, password, proxy: viaProxy() } } },
      code: () => facebook.code(),
      secrets: [password, ...cookies.filter((c) => c.name !== "c_user").map((c) => c.value), PROXY_PASSWORD],
    };
  },
  X() {
    const id = ++n;
    const password = secret("x-password");
    const u = { username: `hedy_${id}`, password, email: `hedy${id}@example.com`, id: String(1_800_000_000_000_000_000n + BigInt(id)), hurdle: "two_factor" as const };
    x.addUser(u);
    const request: ConnectRequest = { variant: { case: "twitter", value: { username: u.username, email: u.email, password } } };
    return { providerUserId: u.id, first: request, password: request, code: () => x.code(), secrets: [password, PROXY_PASSWORD] };
  },
};

/** The raw bytes of the SQLite store (database and write-ahead log), plain or hex-encoded. */
function rawStore(server: TestServer): string {
  const path = join(server.dataDir, "accounts.db");
  const bytes = [path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  return bytes.map((b) => `${b.toString("latin1")}\n${b.toString("hex")}`).join("\n");
}

describe.each(WEB_HOSTS)("web accounts through the real server, drivers hosted %s", (kind) => {
  let host: WebHost;
  let server: TestServer;
  beforeAll(async () => {
    host = await startWebHost(kind, lab, {
      LINKEDIN_BASE_URL: linkedin.url,
      INSTAGRAM_BASE_URL: instagram.url,
      FACEBOOK_BASE_URL: facebook.url,
      FACEBOOK_GRAPH_BASE_URL: facebook.url,
      TWITTER_API_BASE_URL: x.url,
      TWITTER_WEB_BASE_URL: x.url,
    });
    server = await startTestServer({ connectors: [host.connector], intentPollMs: 100 });
  });
  afterAll(async () => {
    await server?.close();
    await host?.close();
  });

  /** A password login through its checkpoint, on one wire: the ConnectAccount answer, the events, and SolveCheckpoint's answer. */
  async function throughCheckpoint(member: Member, wire: "grpc" | "connect-binary") {
    const api = rpc(server, wire);
    const started = expectOk(await api.connect(member.password, { timeoutMs: 30_000 }));
    expect(checkpointOf(started), `${wire}: ${stringify(started)}`).toBeDefined();
    const watch: Watch = watchAccount(server, wire, server.apiKey, started.accountId);
    await watch.event(0);
    return { started, watch, solved: await api.solve(started.accountId, member.code()) };
  }

  it.each(Object.keys(MEMBERS))("%s: the first credential creates the account; the password, after its checkpoint, is already_exists naming it (gRPC and Connect)", async (provider) => {
    const member = MEMBERS[provider]!();
    const grpcApi = rpc(server, "grpc");
    let created: string;
    const responses: unknown[] = [];
    const events: unknown[] = [];
    if (provider === "X") {
      const first = await throughCheckpoint(member, "grpc");
      const account = expectOk(first.solved);
      expect(account.object).toBe("AccountCreated");
      created = account.accountId;
      responses.push(first.started, account);
      events.push(first.watch.events);
    } else {
      const first = expectOk(await grpcApi.connect(member.first, { timeoutMs: 30_000 }));
      expect(first.object).toBe("AccountCreated");
      created = first.accountId;
      responses.push(first);
    }
    const account = expectOk(await grpcApi.get(created));
    expect(account.account?.identity?.providerUserId).toBe(member.providerUserId);
    responses.push(account);

    for (const wire of ["connect-binary", "grpc"] as const) {
      const again = await throughCheckpoint(member, wire);
      const error = expectError(again.solved, Code.AlreadyExists, "errors/already_exists");
      expect(error.errorInfo?.metadata.accountId, wire).toBe(created);
      responses.push(again.started, error);
      events.push(again.watch.events);
    }

    const accounts = await server.store.listAccounts({ workspaceId: (await server.store.findWorkspaceByName("alpha"))!.id, limit: 1000 });
    expect(accounts.filter((a) => a.identity.providerUserId === member.providerUserId).map((a) => a.id)).toEqual([created]);
    // Every request but X's went through the account's proxy, to the fake and nowhere else.
    if (provider !== "X") expect(proxy.tunnels.length).toBeGreaterThan(0);
    // The surfaces searched are the real ones: the member's id is in the store, the login in both logs, checkpoints in the events.
    expect(rawStore(server)).toContain(member.providerUserId);
    expect(host.lines.join("\n")).toContain("provider login ended");
    expect(server.logs.length).toBeGreaterThan(0);
    expect(events.flat()).not.toHaveLength(0);
    expect(leaks(member.secrets, { responses, events, serverLogs: server.logs.join("\n"), hostLogs: host.lines.join("\n"), store: rawStore(server) })).toEqual([]);
  });

  it("a provider's reason reaches the caller's ErrorInfo: X's unknown subtask, a LinkedIn challenge no code solves (gRPC and Connect)", async () => {
    const id = ++n;
    const hedy = { username: `arkose_${id}`, password: secret("x-password"), email: `arkose${id}@example.com`, id: String(1_900_000_000_000_000_000n + BigInt(id)), hurdle: "arkose" as const };
    x.addUser(hedy);
    const ada = { email: `idv${id}@example.com`, password: secret("li-password"), memberId: 80_000 + id, firstName: "Ada", lastName: "V", publicIdentifier: `idv-${id}`, challenge: "ID_VERIFICATION" as const };
    linkedin.addMember(ada);
    for (const wire of ["grpc", "connect-binary"] as const) {
      const api = rpc(server, wire);
      const arkose = expectError(await api.connect({ variant: { case: "twitter", value: { username: hedy.username, email: hedy.email, password: hedy.password } } }, { timeoutMs: 30_000 }), Code.PermissionDenied, "errors/action_required");
      expect(arkose.errorInfo?.metadata.subtask, wire).toBe("ArkoseLogin");
      const idv = expectError(await api.connect({ variant: { case: "linkedinBasic", value: { username: ada.email, password: ada.password } } }, { timeoutMs: 30_000 }), Code.PermissionDenied, "errors/action_required");
      expect(idv.errorInfo?.metadata.challengeType, wire).toBe("ID_VERIFICATION");
      expect(leaks([hedy.password, ada.password], { arkose, idv })).toEqual([]);
    }
  });
});
