/**
 * What goes wrong on the way to a provider, for each of the seven web variants, on both hosts
 * (in process, and the real gateway process on a real port): a closed origin is
 * provider_unreachable, a certificate from an untrusted CA provider_tls_error, an origin slower
 * than DRIVERS_REQUEST_TIMEOUT_MS request_timeout; the account's proxy refusing is proxy_error,
 * rejecting its credentials proxy_auth_error (every variant that has a proxy: X's has none).
 * Each host is configured only as an operator would: base URLs and the CA in its environment.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectRequest } from "../checkpoints/support/helpers.ts";
import { createDriverLab, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeHttps, type FakeHttps } from "../support/drivers/fake-https.ts";
import { WEB_HOSTS, startWebHost, type WebHost, type WebVariant } from "../support/drivers/web-hosts.ts";
import { WEB_REQUESTS } from "../support/drivers/web-requests.ts";
import { freePort } from "../support/process.ts";
import { PROXY_PROTOCOLS, accountProxy } from "../support/proxy/account-proxy.ts";

const PROXY_PASSWORD = "proxy-Planted-Secret-failures-4411";
const SECRETS = ["li-at-Planted-Secret", "li-Planted-Secret", "ig-session-Planted-Secret", PROXY_PASSWORD];

let lab: DriverLab;
let rogue: FakeHttps;
let slow: FakeHttps;
let closedOrigin: string;

/** Every web base URL at one origin. */
const allAt = (origin: string) => ({
  LINKEDIN_BASE_URL: origin,
  INSTAGRAM_BASE_URL: origin,
  FACEBOOK_BASE_URL: origin,
  FACEBOOK_GRAPH_BASE_URL: origin,
  TWITTER_API_BASE_URL: origin,
  TWITTER_WEB_BASE_URL: origin,
});

beforeAll(async () => {
  lab = await createDriverLab();
  rogue = await startFakeHttps(lab.pki.untrusted, () => ({ json: {} }));
  slow = await startFakeHttps(lab.pki.server, () => ({ delayMs: 10_000, json: {} }));
  closedOrigin = `https://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await Promise.all([rogue.close(), slow.close()]);
  await lab.close();
});

const variantOf = (request: ConnectRequest) => request.variant as WebVariant;
/** The request with `proxy` set (every web variant but X's has the field). */
function withProxy(request: ConnectRequest, proxy: object): WebVariant {
  const variant = variantOf(request)!;
  return { ...variant, value: { ...variant.value, proxy } } as WebVariant;
}
const PROXIED = WEB_REQUESTS.filter(([variant]) => variant !== "twitter");

/**
 * The secret search over the host's whole log once every login settled: the gateway process's
 * lines arrive through a pipe and may trail the answer each per-login check read. Its positive
 * control: the logins did log there (an empty log would pass any search).
 */
function expectHostLogsClean(host: WebHost, secrets: string[]): void {
  expect(host.lines.join("\n")).toContain("provider login started");
  expectNoSecrets({ lines: host.lines, states: [] }, secrets);
}

describe.each(WEB_HOSTS)("the web variants' transport failures on the %s host", (kind) => {
  const hosts: Partial<Record<"closed" | "rogue" | "slow", WebHost>> = {};
  beforeAll(async () => {
    [hosts.closed, hosts.rogue, hosts.slow] = await Promise.all([
      startWebHost(kind, lab, allAt(closedOrigin)),
      startWebHost(kind, lab, allAt(rogue.url)),
      startWebHost(kind, lab, { ...allAt(slow.url), DRIVERS_REQUEST_TIMEOUT_MS: "300" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(hosts).map((host) => host.close()));
  });

  it.each([
    ["closed", "provider_unreachable"],
    ["rogue", "provider_tls_error"],
    ["slow", "request_timeout"],
  ] as const)("an origin that is %s: every variant FAILED %s", async (origin, errorKind) => {
    const host = hosts[origin]!;
    const outcomes: Record<string, string | undefined> = {};
    for (const [variant, request] of WEB_REQUESTS) {
      const d = host.drive(variantOf(request));
      outcomes[variant] = (await settled(d)).errorKind;
      expectNoSecrets(d, SECRETS);
    }
    expect(outcomes).toEqual(Object.fromEntries(WEB_REQUESTS.map(([variant]) => [variant, errorKind])));
    expectHostLogsClean(host, SECRETS);
  });

  it.each(PROXY_PROTOCOLS)("an %s proxy refusing is proxy_error, rejecting the credentials proxy_auth_error, for every variant with a proxy", async (_name, protocol) => {
    const host = hosts.closed!;
    const { server, proxy } = await accountProxy(protocol, PROXY_PASSWORD);
    const outcomes: Record<string, string | undefined> = {};
    try {
      for (const [variant, request] of PROXIED) {
        const d = host.drive(withProxy(request, { ...proxy, password: "wrong-Planted-Secret" }));
        outcomes[`${variant} wrong credentials`] = (await settled(d)).errorKind;
        expectNoSecrets(d, [...SECRETS, "wrong-Planted-Secret"]);
      }
    } finally {
      await server.close();
    }
    for (const [variant, request] of PROXIED) {
      const d = host.drive(withProxy(request, proxy));
      outcomes[`${variant} refused`] = (await settled(d)).errorKind;
      expectNoSecrets(d, SECRETS);
    }
    expect(outcomes).toEqual(Object.fromEntries(PROXIED.flatMap(([variant]) => [[`${variant} wrong credentials`, "proxy_auth_error"], [`${variant} refused`, "proxy_error"]])));
    expectHostLogsClean(host, [...SECRETS, "wrong-Planted-Secret"]);
  });
});
