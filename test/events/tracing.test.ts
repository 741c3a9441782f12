import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logging.ts";
import { startTracing } from "../../src/observability/tracing.ts";
import { spansOf, startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { clientsOf, DRIVEN_ENV, eventually, link, register, startReceiver, switchConnector, type Receiver } from "./support.ts";

/** Store operations of the background workers and of StreamEvents' polls: counted, never traced. */
const QUIET_OPERATIONS = ["listEvents", "claimDeliveries", "claimDueChecks", "recordAttempt", "recordCheck"].map((op) => `store ${op}`);

describe("tracing of events, webhooks and health checks", () => {
  let otlp: OtlpReceiver;
  let server: TestServer;
  let webhook: Receiver;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    webhook = await startReceiver();
    server = await startTestServer({ connectors: [switchConnector()], env: { ...DRIVEN_ENV, ACCOUNT_CHECK_POLL_MS: "50", WEBHOOK_POLL_MS: "50", EVENTS_POLL_MS: "50" } });
  });
  afterAll(async () => {
    await server?.close();
    await webhook?.close();
    await otlp?.close();
  });

  it("a traced StreamEvents has its RPC span, but no span per poll; deliveries and checks make no traces", async () => {
    const tracing = await startTracing({ protocol: "http/json", url: otlp.url, serviceVersion: "test" }, createLogger({ level: "silent" }));
    const traceId = randomBytes(16).toString("hex");
    const { events, headers } = clientsOf(server);
    await register(server, webhook);
    const controller = new AbortController();
    const received: string[] = [];
    const streaming = (async () => {
      try {
        for await (const m of events.streamEvents({}, { headers: { ...headers, traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01` }, signal: controller.signal })) received.push(m.event!.id);
      } catch {
        // aborted below
      }
    })();
    await link(server, "traced-stream");
    // The stream polled until it saw the event, the deliverer claimed and POSTed it, the checker ran.
    await eventually(() => received.length === 1 && webhook.received.length === 1, 20_000, "the event streamed and delivered");
    controller.abort();
    await streaming;
    // Its span ends when the server has finished the call (its log line is written then).
    const streamLogged = () => server.logs.some((l) => (JSON.parse(l) as Record<string, unknown>).method === "StreamEvents");
    await eventually(streamLogged, 20_000, "the stream's end on the server");
    await tracing.shutdown();

    const spans = spansOf(otlp.received);
    expect(spans.find((s) => s.traceId === traceId && s.name === "postpress.accounts.v1.EventService/StreamEvents")).toBeDefined();
    expect(spans.find((s) => s.name === "postpress.accounts.v1.AccountService/ConnectAccount")).toBeDefined();
    expect(spans.filter((s) => QUIET_OPERATIONS.includes(s.name)).map((s) => s.name)).toEqual([]);
  });
});
