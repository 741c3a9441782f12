/**
 * Through the real server and store: the gateway replica a provider report names is kept on
 * the intent and every later call about it goes there (call.replica); a provider FAILED's
 * retry hint and safe metadata reach the caller's error (RetryInfo, ErrorInfo metadata).
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthEvent, AuthState, InteractiveCall, InteractiveConnector } from "../../src/domain/connectors/interactive.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { expectError, expectOk, rpc, twitter, whatsapp } from "../checkpoints/support/helpers.ts";

const REPLICA = "10.1.2.3:50061";

/** X logins fail with a flood wait; WhatsApp ones wait at a QR code held by REPLICA. Records where each call was sent. */
function replicatedConnector(sentTo: (string | undefined)[]): InteractiveConnector<"twitter" | "whatsapp"> {
  const qr: AuthState = { status: "CHECKPOINT", version: 1, replica: REPLICA, checkpoint: { type: "QR_CODE", qrCode: "2@qr", expiresAt: new Date(Date.now() + 60_000).toISOString() } };
  const record = async (_key: string, call: InteractiveCall) => {
    sentTo.push(call.replica);
    return qr;
  };
  return {
    kind: "interactive",
    variants: ["twitter", "whatsapp"],
    async start(input) {
      if (input.request.variant.case === "twitter") {
        return { status: "FAILED", version: 1, errorKind: "provider_error", retryAfterMs: 42_000, errorMetadata: { subtask: "LoginEnterPassword" } };
      }
      return qr;
    },
    solve: (key, _code, call) => record(key, call),
    resend: record,
    async cancel(key, call) {
      sentTo.push(call.replica);
      return { status: "CANCELED", version: 9 };
    },
    get: record,
    async *events(_key, signal): AsyncGenerator<AuthEvent> {
      yield { kind: "SNAPSHOT", state: qr };
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  };
}

describe("gateway replicas and provider failure details through the engine", () => {
  let server: TestServer;
  const sentTo: (string | undefined)[] = [];
  beforeAll(async () => {
    server = await startTestServer({ connectors: [replicatedConnector(sentTo)] });
  });
  afterAll(() => server?.close());

  it("keeps the replica on the intent and sends solve, resend and cancel there", async () => {
    const api = rpc(server, "grpc");
    const r = expectOk(await api.connect(whatsapp()));
    const workspace = (await server.store.findWorkspaceByName("alpha"))!;
    const intent = (await server.store.getIntentByAccountId(workspace.id, r.accountId))!;
    expect(intent.state).toMatchObject({ flow: "interactive", replica: REPLICA });
    expectOk(await api.solve(r.accountId, "123456"));
    expectOk(await api.resend(r.accountId));
    expectOk(await api.cancel(r.accountId));
    expect(sentTo).toEqual([REPLICA, REPLICA, REPLICA]);
  });

  it("answers a provider FAILED with its RetryInfo and metadata", async () => {
    const failed = expectError(await rpc(server, "grpc").connect(twitter(`flood${Date.now()}`, "pw")), Code.Unavailable, "errors/provider_error");
    expect(failed.errorInfo?.metadata.subtask).toBe("LoginEnterPassword");
    expect(failed.errorInfo?.metadata.accountId).toMatch(/^acc_/);
    expect(Number(failed.retryInfo?.retryDelay?.seconds)).toBe(42);
  });
});
