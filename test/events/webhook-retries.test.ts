import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJsonString } from "@bufbuild/protobuf";
import { ListWebhookEndpointsResponseSchema, WebhookDeliveryStatus, WebhookEndpointStatus } from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { loadConfig } from "../../src/config.ts";
import { FIRST_DELAY_MS, MAX_DELAY_MS } from "../../src/domain/events/retry-schedule.ts";
import { WebhookDeliverer } from "../../src/domain/events/webhook-deliverer.ts";
import { failureFromConnectError } from "../support/clients.ts";
import { createTargetGuard } from "../../src/net/target-guard.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { clientsOf, DRIVEN_ENV, link, register, startReceiver, switchConnector, loopbackUrlRule, type Receiver } from "./support.ts";

const DAY_MS = 86_400_000;

/**
 * The retry schedule and the disabling of an endpoint, on a fake clock: a receiver that fails
 * then recovers gets the event on the attempt after it recovers; one that never recovers is
 * retried for about a day, then its endpoint is disabled and says so.
 */
describe("webhook retries (fake clock)", () => {
  let server: TestServer;
  let receiver: Receiver;
  let clock: number;
  let deliverer: WebhookDeliverer;

  beforeAll(async () => {
    server = await startTestServer({ connectors: [switchConnector()], env: { ...DRIVEN_ENV, WEBHOOK_POLL_MS: "0" } });
    receiver = await startReceiver();
    clock = Date.now() + 1_000;
    receiver.now = () => new Date(clock);
    deliverer = new WebhookDeliverer({
      store: server.store,
      sealer: server.sealer,
      checkUrl: loopbackUrlRule,
      guard: loopbackGuard,
      settings: loadConfig({ ...DRIVEN_ENV, WEBHOOK_POLL_MS: "0" }).webhooks,
      log: pino({ level: "silent" }),
      now: () => new Date(clock),
    });
  });
  afterAll(async () => {
    await server.close();
    await receiver.close();
  });

  const deliveriesOf = async (endpointId: string) => {
    const { events, headers } = clientsOf(server);
    return (await events.listWebhookDeliveries({ endpointId }, { headers })).deliveries;
  };

  it("backs off exponentially with jitter, and delivers once the receiver recovers", async () => {
    const endpointId = await register(server, receiver);
    await link(server, "retry-1");
    clock = Math.max(clock, Date.now() + 1_000);
    receiver.answer = 503;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      expect(await deliverer.runRound()).toBe(1);
      const [delivery] = await deliveriesOf(endpointId);
      expect(delivery).toMatchObject({ status: WebhookDeliveryStatus.PENDING, attempts: attempt, lastStatusCode: 503, lastError: "HTTP 503" });
      const next = timestampDate(delivery!.nextAttemptTime!).getTime();
      delays.push(next - clock);
      expect(await deliverer.runRound()).toBe(0); // not due before its time
      clock = next;
    }
    delays.forEach((delay, i) => {
      const base = Math.min(FIRST_DELAY_MS * 2 ** i, MAX_DELAY_MS);
      expect(delay).toBeGreaterThanOrEqual(base * 0.75);
      expect(delay).toBeLessThanOrEqual(base * 1.25);
    });
    receiver.answer = 200;
    expect(await deliverer.runRound()).toBe(1);
    const [delivered] = await deliveriesOf(endpointId);
    expect(delivered).toMatchObject({ status: WebhookDeliveryStatus.DELIVERED, attempts: 7, lastStatusCode: 200, lastError: "" });
    expect(receiver.received).toHaveLength(7);
    expect(new Set(receiver.received.map((r) => r.eventId)).size).toBe(1);
    expect(receiver.received.every((r) => r.signed)).toBe(true);
    expect(await deliverer.runRound()).toBe(0);
    const { events, headers } = clientsOf(server);
    await events.deleteWebhookEndpoint({ endpointId }, { headers });
  });

  it("gives up after about a day, disables the endpoint and sends it nothing more", async () => {
    receiver.received.length = 0;
    const endpointId = await register(server, receiver);
    // The day is counted from the delivery's creation, which the server stamps (real time)
    // during link(); the fake clock may already be ahead of it after the test above.
    const linking = Date.now();
    await link(server, "retry-2");
    const linked = Date.now();
    clock = Math.max(clock, Date.now() + 1_000);
    receiver.answer = 500;
    let attempts = 0;
    for (;;) {
      expect(await deliverer.runRound()).toBe(1);
      attempts++;
      const [delivery] = await deliveriesOf(endpointId);
      if (delivery!.status !== WebhookDeliveryStatus.PENDING) break;
      clock = timestampDate(delivery!.nextAttemptTime!).getTime();
      expect(attempts).toBeLessThan(40);
    }
    const [failed] = await deliveriesOf(endpointId);
    expect(failed).toMatchObject({ status: WebhookDeliveryStatus.FAILED, attempts, lastStatusCode: 500 });
    // About a day: the last attempt falls within the retry period, the next one would not.
    expect(clock - linking).toBeGreaterThan(DAY_MS - MAX_DELAY_MS * 1.25);
    expect(clock - linked).toBeLessThanOrEqual(DAY_MS);
    expect(receiver.received).toHaveLength(attempts);

    const { events, headers } = clientsOf(server);
    const [endpoint] = (await events.listWebhookEndpoints({}, { headers })).endpoints;
    expect(endpoint).toMatchObject({ id: endpointId, status: WebhookEndpointStatus.DISABLED });
    expect(endpoint!.disabledReason).toMatch(/kept failing for 24h \(last: HTTP 500\)/);
    // A disabled endpoint gets nothing: no delivery is queued for it.
    await link(server, "retry-3");
    clock += DAY_MS;
    expect(await deliverer.runRound()).toBe(0);
    expect(await deliveriesOf(endpointId)).toHaveLength(1);
  });

  it("refuses private and plain-http targets unless allowed, and manages endpoints by RPC", async () => {
    const strict = await startTestServer({ connectors: [], env: { ...DRIVEN_ENV, PROVIDER_ALLOWED_NETWORKS: "" } });
    try {
      const { events, headers } = clientsOf(strict);
      for (const url of ["http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/hook", "https://169.254.169.254/latest", "https://user:pw@example.com/"]) {
        const failure = await events.createWebhookEndpoint({ url }, { headers }).then(() => undefined, failureFromConnectError);
        expect([url, failure?.code, failure?.badRequest?.fieldViolations[0]?.field]).toEqual([url, Code.InvalidArgument, "url"]);
        // Where it points is the target guard's answer, the same as for provider hosts; its form is a parameter error.
        const internal = !url.startsWith("http:") && !url.includes("@");
        expect([url, failure?.errorInfo?.reason]).toEqual([url, internal ? "TARGET_NOT_ALLOWED" : "INVALID_PARAMETERS"]);
      }
      const created = await events.createWebhookEndpoint({ url: "https://93.184.215.14/hook", eventTypes: [3] }, { headers });
      expect(created.signingSecret).toMatch(/^whsec_/);
      const rotated = await events.rotateWebhookSecret({ endpointId: created.endpoint!.id }, { headers });
      expect(rotated.signingSecret).not.toBe(created.signingSecret);
      const listed = await events.listWebhookEndpoints({}, { headers });
      expect(listed.endpoints.map((e) => [e.id, e.eventTypes, WebhookEndpointStatus[e.status]])).toEqual([[created.endpoint!.id, [3], "ENABLED"]]);
      // The secret is shown on create and rotate only, and stored sealed.
      expect(toJsonString(ListWebhookEndpointsResponseSchema, listed)).not.toContain(rotated.signingSecret);
      await events.deleteWebhookEndpoint({ endpointId: created.endpoint!.id }, { headers });
      const gone = await events.deleteWebhookEndpoint({ endpointId: created.endpoint!.id }, { headers }).then(() => undefined, failureFromConnectError);
      expect(gone?.code).toBe(Code.NotFound);
      // Another workspace cannot see or touch this one's endpoints.
      const mine = await events.createWebhookEndpoint({ url: "https://93.184.215.14/other" }, { headers });
      const theirs = clientsOf(strict, strict.otherApiKey);
      expect((await theirs.events.listWebhookEndpoints({}, { headers: theirs.headers })).endpoints).toEqual([]);
      const foreign = await theirs.events.rotateWebhookSecret({ endpointId: mine.endpoint!.id }, { headers: theirs.headers }).then(() => undefined, failureFromConnectError);
      expect(foreign?.code).toBe(Code.NotFound);
    } finally {
      await strict.close();
    }
  });

  it("dials only an address the target guard checked, whatever the URL check said", async () => {
    const endpointId = await register(server, receiver);
    await link(server, "guarded-1");
    const before = receiver.received.length;
    // A guard without the loopback allow-list, behind a URL check that lets everything through:
    // the connection itself is refused, so nothing reaches the receiver on 127.0.0.1.
    const unguardedCheck = new WebhookDeliverer({
      store: server.store,
      sealer: server.sealer,
      checkUrl: async () => undefined,
      guard: createTargetGuard(),
      settings: loadConfig({ ...DRIVEN_ENV, WEBHOOK_POLL_MS: "0" }).webhooks,
      log: pino({ level: "silent" }),
      now: () => new Date(clock),
    });
    try {
      expect(await unguardedCheck.runRound()).toBeGreaterThanOrEqual(1);
    } finally {
      await unguardedCheck.stop();
    }
    const [delivery] = await deliveriesOf(endpointId);
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 0, lastError: "target refused by the URL rules" });
    expect(receiver.received).toHaveLength(before);
  });
});
