/**
 * Two server replicas on one PostgreSQL schema, two gateway replicas (the real gateway server
 * on real ports, each with its own driver host): an intent started on server A is solved
 * through server B, and the call reaches the gateway replica holding the Telegram login.
 * Then that replica dies: the next intent it held fails with no_client_session.
 */
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountEventKind, CheckpointType } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createGatewayConnector, type GatewayConnector } from "../../src/domain/connectors/gateway/gateway-connector.ts";
import { createDriverHost, type DriverHost } from "../../src/drivers/host/host.ts";
import { createTelegramDriver } from "../../src/drivers/telegram/driver.ts";
import { startGatewayServer, type GatewayServer } from "../../src/gateway/server.ts";
import { expectError, expectOk, rpc, telegram } from "../checkpoints/support/helpers.ts";
import { watchAccount } from "../checkpoints/support/watch.ts";
import { FakeTelegram, telegramUser } from "../support/drivers/fake-gramjs.ts";
import { capturedLogger } from "../support/logs.ts";
import { startTestServer, testSealer, type TestServer } from "../support/server.ts";

const APP = { apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" };
const PASSWORD = "S3CRET-replica-2fa";

interface GatewayReplica {
  fake: FakeTelegram;
  host: DriverHost;
  server: GatewayServer;
}

let gateways: GatewayReplica[];
let servers: TestServer[];
let connectors: GatewayConnector[];

beforeAll(async () => {
  const { log } = capturedLogger();
  gateways = await Promise.all(
    [0, 1].map(async () => {
      const fake = new FakeTelegram();
      const host = createDriverHost({ drivers: [createTelegramDriver({ app: APP, clientFactory: fake.factory })], log, maxPendingSessions: 10, sessionTtlMs: 60_000 });
      return { fake, host, server: await startGatewayServer({ connector: host, host: "127.0.0.1", port: 0, log }) };
    }),
  );
  // Each server replica configured as GATEWAY_URL_TELEGRAM=gw-a,gw-b would configure it.
  const address = gateways.map((g) => g.server.address).join(",");
  connectors = [0, 1].map(() => createGatewayConnector({ provider: "TELEGRAM", address, variants: ["telegram"] }));
  const schema = `drv_replicas_${randomBytes(6).toString("hex")}`;
  const sealer = testSealer();
  const a = await startTestServer({ backend: "postgres", pgSchema: schema, sealer, connectors: [connectors[0]!], intentPollMs: 100 });
  const b = await startTestServer({ backend: "postgres", pgSchema: schema, sealer, connectors: [connectors[1]!], intentPollMs: 100, seed: false, keys: { apiKey: a.apiKey, otherApiKey: a.otherApiKey } });
  servers = [a, b];
});

afterAll(async () => {
  for (const server of servers ?? []) await server.close();
  for (const connector of connectors ?? []) connector.close();
  for (const g of gateways ?? []) {
    await g.host.close();
    await g.server.close();
  }
});

/** The gateway replica whose driver host holds a login (its fake Telegram saw a client). */
function holder(before: number[]): GatewayReplica {
  const index = gateways.findIndex((g, i) => g.fake.clients.length > before[i]!);
  expect(index).toBeGreaterThanOrEqual(0);
  return gateways[index]!;
}

describe("two server replicas, two gateway replicas", () => {
  it("started on A, TWO_FACTOR solved through B: the call reaches the replica holding the login", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const counts = gateways.map((g) => g.fake.clients.length);
    const r = expectOk(await rpc(a, "grpc").connect(telegram()));
    const owner = holder(counts);
    const other = gateways.find((g) => g !== owner)!;
    expect(owner.host.pendingSessions).toBe(1);
    expect(other.host.pendingSessions).toBe(0);

    const watch = watchAccount(b, "grpc", b.apiKey, r.accountId);
    await watch.event(0);
    owner.fake.clients.at(-1)!.scan({ user: telegramUser({ id: 99001 }), password: PASSWORD });
    expect((await watch.waitFor(AccountEventKind.CHECKPOINT, 10_000, 1)).checkpoint?.type).toBe(CheckpointType.TWO_FACTOR);

    expectError(await rpc(b, "grpc").solve(r.accountId, "wrong"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(expectOk(await rpc(b, "grpc").solve(r.accountId, PASSWORD)).object).toBe("AccountCreated");
    expect(owner.fake.clients.at(-1)!.calls.filter((c) => c === "auth.CheckPassword")).toHaveLength(2);
    expect(other.fake.clients).toHaveLength(counts[gateways.indexOf(other)]!);
  });

  it("the replica holding a login dies and comes back empty: the intent fails with no_client_session", async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const counts = gateways.map((g) => g.fake.clients.length);
    const r = expectOk(await rpc(a, "grpc").connect(telegram()));
    const owner = holder(counts);
    // The replica restarts without its sessions: a fresh host on the same port.
    const port = owner.server.port;
    await owner.server.close();
    await owner.host.close();
    const { log } = capturedLogger();
    owner.host = createDriverHost({ drivers: [createTelegramDriver({ app: APP, clientFactory: owner.fake.factory })], log, maxPendingSessions: 10, sessionTtlMs: 60_000 });
    owner.server = await startGatewayServer({ connector: owner.host, host: "127.0.0.1", port, log });
    expectError(await rpc(b, "grpc").resend(r.accountId), Code.Unavailable, "errors/no_client_session");
    // The intent is over, on every server replica.
    expectError(await rpc(a, "grpc").solve(r.accountId, PASSWORD), Code.Internal, "errors/authentication_intent_error");
  });
});
