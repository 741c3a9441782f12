/**
 * Through the real server and store: a driver's provider session is sealed with the account
 * and nowhere else (planted secrets searched in the intent row, responses, events, logs), and
 * read back whole by readAccountCredentials; the per-workspace cap on pending intents.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAccountCredentials } from "../../src/domain/accounts/account-secrets.ts";
import type { AuthEvent, AuthState, InteractiveConnector } from "../../src/domain/connectors/interactive.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { expectError, expectOk, leaks, rpc, secret, stringify, twitter, whatsapp } from "../checkpoints/support/helpers.ts";
import { watchAccount } from "../checkpoints/support/watch.ts";

const SESSION_DATA = secret("baileys-creds");

/** A driver host in miniature: X logins connect at once with a session; WhatsApp ones wait at a QR code. */
function drivenConnector(): InteractiveConnector<"twitter" | "whatsapp"> {
  const states = new Map<string, AuthState>();
  const get = async (key: string) => states.get(key) ?? { status: "PENDING" as const, version: 0 };
  return {
    kind: "interactive",
    variants: ["twitter", "whatsapp"],
    async start(input) {
      const state: AuthState =
        input.request.variant.case === "twitter"
          ? { status: "CONNECTED", version: 1, identity: { providerUserId: `x-${input.intentId}` }, details: { via: "driver" }, session: { format: "cookies/v1", data: SESSION_DATA } }
          : { status: "CHECKPOINT", version: 1, checkpoint: { type: "QR_CODE", qrCode: `2@${input.intentId}`, expiresAt: new Date(Date.now() + 60_000).toISOString() } };
      states.set(input.intentId, state);
      return state;
    },
    solve: get,
    resend: get,
    async cancel(key) {
      states.set(key, { status: "CANCELED", version: 9 });
      return { status: "CANCELED", version: 9 };
    },
    get,
    async *events(key, signal): AsyncGenerator<AuthEvent> {
      yield { kind: "SNAPSHOT", state: await get(key) };
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
  };
}

describe.each(["sqlite", "postgres"] as const)("on %s", (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ backend, connectors: [drivenConnector()], maxPendingIntents: 3 });
  });
  afterAll(() => server?.close());

  it("seals the session with the account, never in the intent, a response, an event or a log; readAccountCredentials opens it", async () => {
    const password = secret("x-password");
    const created = expectOk(await rpc(server, "connect-json").connect(twitter(`anna${Date.now()}`, password)));
    expect(created.object).toBe("AccountCreated");
    expect(created.outcome.case).toBe("accountCreated");
    const workspace = (await server.store.findWorkspaceByName("alpha"))!;
    const opened = await readAccountCredentials(server.store, server.sealer, workspace.id, created.accountId);
    expect(opened.session).toEqual({ format: "cookies/v1", data: SESSION_DATA });
    expect(opened.credentials.family.case === "webLogin" && opened.credentials.family.value.password).toBe(password);
    // Another workspace's key cannot read it.
    const other = (await server.store.findWorkspaceByName("beta"))!;
    await expect(readAccountCredentials(server.store, server.sealer, other.id, created.accountId)).rejects.toMatchObject({ kind: "not_found" });

    const intent = (await server.store.getIntentByAccountId(workspace.id, created.accountId))!;
    const watched = watchAccount(server, "grpc", server.apiKey, created.accountId);
    const { events } = await watched.finished();
    const got = expectOk(await rpc(server, "grpc").get(created.accountId));
    expect(leaks([SESSION_DATA, password], { intent, created, events, got, logs: server.logs })).toEqual([]);
    // Positive control: the same search finds a planted secret where it is.
    expect(leaks([SESSION_DATA], { planted: `x${SESSION_DATA}x` })).toHaveLength(1);
    expect(stringify(intent)).toContain(created.accountId);
  });

  it("answers too_many_pending_intents once the workspace has its cap of open intents, and again accepts one after a cancel", async () => {
    const api = rpc(server, "grpc");
    const pending = [];
    for (let i = 0; i < 3; i++) pending.push(expectOk(await api.connect(whatsapp())).accountId);
    const refused = expectError(await api.connect(whatsapp()), Code.ResourceExhausted, "errors/too_many_pending_intents");
    expect(refused.errorInfo?.metadata.limit).toBe("3");
    // Another workspace has its own cap.
    expectOk(await rpc({ ...server, apiKey: server.otherApiKey }, "grpc").connect(whatsapp()));
    expectOk(await api.cancel(pending[0]!));
    expectOk(await api.connect(whatsapp()));
  });
});
