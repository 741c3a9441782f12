import { once } from "node:events";
import { connect, createServer, type AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoogleOauthAuthSchema } from "../../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../../src/config.ts";
import { createGoogleConnector } from "../../../src/domain/connectors/google/google-connector.ts";
import { isAppError } from "../../../src/errors/app-error.ts";
import { createAddressPolicy, parseNetworks } from "../../../src/net/address-policy.ts";
import { createTargetGuard } from "../../../src/net/target-guard.ts";
import { LOOPBACK_NETWORKS, loopbackGuard } from "../../support/loopback-guard.ts";
import { startFakeGoogle, type FakeGoogle } from "../../support/oauth/fake-google.ts";
import { requestContext } from "../../support/oauth/harness.ts";

describe("the address policy", () => {
  const policy = createAddressPolicy();

  it.each([
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255",
    "192.0.0.8", "192.0.2.1", "192.168.0.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::127.0.0.1", "64:ff9b:1::1",
    "2002:7f00:1::1", "2002:a9fe:a9fe::", "2001:db8::1", "2001::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1", "100::1",
    "not-an-address", "",
  ])("refuses %s", (address) => {
    expect(policy.permits(address)).toBe(false);
  });

  it.each(["8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.169.0.1", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1", "2606:4700:4700::1111", "2a00:1450:4001::1"])(
    "permits %s",
    (address) => {
      expect(policy.permits(address)).toBe(true);
    },
  );

  it("the allow-list permits its networks, in every form that reaches them, and nothing else", () => {
    const allowing = createAddressPolicy(parseNetworks("127.0.0.0/8, 10.1.0.0/16"));
    for (const address of ["127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "10.1.2.3"]) expect(allowing.permits(address), address).toBe(true);
    for (const address of ["::1", "10.2.0.1", "169.254.169.254", "192.168.0.1"]) expect(allowing.permits(address), address).toBe(false);
  });

  it("parses CIDR lists and names the entry it cannot read", () => {
    expect(parseNetworks(LOOPBACK_NETWORKS)).toEqual([
      { address: "127.0.0.0", prefix: 8, family: "ipv4" },
      { address: "::1", prefix: 128, family: "ipv6" },
    ]);
    expect(parseNetworks("10.0.0.1 fd00::/8")).toEqual([
      { address: "10.0.0.1", prefix: 32, family: "ipv4" },
      { address: "fd00::", prefix: 8, family: "ipv6" },
    ]);
    expect(parseNetworks("")).toEqual([]);
    for (const bad of ["10.0.0.0/33", "::/129", "localhost", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/"]) {
      expect(() => parseNetworks(`127.0.0.0/8,${bad}`), bad).toThrow(`"${bad}" is not a CIDR network`);
    }
    expect(loadConfig({ PROVIDER_ALLOWED_NETWORKS: "127.0.0.0/8" }).providers.allowedNetworks).toEqual([{ address: "127.0.0.0", prefix: 8, family: "ipv4" }]);
    expect(loadConfig({}).providers.allowedNetworks).toBeUndefined();
    expect(() => loadConfig({ PROVIDER_ALLOWED_NETWORKS: "intranet" })).toThrow('PROVIDER_ALLOWED_NETWORKS must be CIDR networks, comma- or space-separated (e.g. 127.0.0.0/8,::1/128) ("intranet" is not a CIDR network), got "intranet"');
  });
});

describe("the guard's lookup, for net.connect and agents", () => {
  let port: number;
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const dial = (lookup: ReturnType<ReturnType<typeof createTargetGuard>["lookup"]>) =>
    new Promise<unknown>((resolve) => {
      const socket = connect({ host: "localhost", port, lookup });
      socket.once("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.once("error", resolve);
    });

  it("refuses a name that resolves to loopback, without dialling", async () => {
    const error = await dial(createTargetGuard().lookup("proxy.host"));
    expect(isAppError(error) && { kind: error.kind, metadata: error.metadata }).toEqual({ kind: "target_not_allowed", metadata: { field: "proxy.host" } });
    expect(connections).toBe(0);
  });

  it("connects when the allow-list permits it", async () => {
    expect(await dial(loopbackGuard.lookup("proxy.host"))).toBe("connected");
    expect(connections).toBe(1);
  });

  it("resolve() refuses literals, which Node never passes to lookup, and answers the name for TLS", async () => {
    await expect(createTargetGuard().resolve("[::1]", "f")).rejects.toMatchObject({ kind: "target_not_allowed" });
    await expect(loopbackGuard.resolve("127.0.0.1", "f")).resolves.toEqual({ address: "127.0.0.1", family: 4, servername: undefined });
    await expect(loopbackGuard.resolve("[::1]", "f")).resolves.toEqual({ address: "::1", family: 6, servername: undefined });
    await expect(loopbackGuard.resolve("localhost", "f")).resolves.toMatchObject({ servername: "localhost" });
  });
});

describe("the OAuth HTTP client", () => {
  let google: FakeGoogle;
  beforeAll(async () => {
    google = await startFakeGoogle();
  });
  afterAll(() => google.close());

  it("does not call a base URL inside the network unless allowed: a server fault, with the refusal as its logged cause", async () => {
    const tokens = google.addUser("anna@example.com");
    const connector = createGoogleConnector(loadConfig(google.env).oauth);
    const { context } = requestContext();
    const error = await connector.connect({ variant: create(GoogleOauthAuthSchema, tokens), ...context }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(error) && error.kind).toBe("unexpected_error");
    expect(isAppError(error) && isAppError(error.cause) && error.cause.kind).toBe("target_not_allowed");
    expect(google.requests).toHaveLength(0);

    const allowed = await createGoogleConnector(loadConfig(google.env).oauth, loopbackGuard).connect({ variant: create(GoogleOauthAuthSchema, tokens), ...requestContext().context });
    expect(allowed.identity.email).toBe("anna@example.com");
    expect(google.requests).toHaveLength(1);
  });
});
