/**
 * The four gateway failure types, each from the real condition behind it: no gateway
 * configured (feature_not_implemented), nothing listening where one is configured
 * (no_channel), a gateway without a handler for the variant (no_handler), a gateway that lost
 * the provider session (no_client_session). Plus a gateway process killed mid-intent.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountEventKind } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { startCheckpointServer, type CheckpointServer } from "./support/harness.ts";
import { eventually, expectError, expectOk, linkedinBasic, login, messenger, messengerSession, rpc, TRANSPORTS, twitter, whatsapp } from "./support/helpers.ts";
import { kinds, watchAccount } from "./support/watch.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(TRANSPORTS)("over %s", (wire) => {
  describe("no gateway configured: errors/feature_not_implemented", () => {
    let server: CheckpointServer;
    let gateway: ScriptedGateway;
    beforeAll(async () => {
      gateway = await startScriptedGateway({ scanAfterMs: null });
      // Only WhatsApp has a gateway.
      server = await startCheckpointServer({ gateways: { WHATSAPP: gateway.address } });
    });
    afterAll(async () => {
      await server.close();
      await gateway.close();
    });

    it("each provider without GATEWAY_URL_<PROVIDER> answers feature_not_implemented; the configured one works", async () => {
      const api = rpc(server, wire);
      for (const request of [linkedinBasic(login("ok")), twitter(login("ok")), messenger(login("ok")), messengerSession()]) {
        const e = expectError(await api.connect(request), Code.Unimplemented, "errors/feature_not_implemented");
        expect(e.errorInfo?.metadata.variant).toBe(request.variant!.case);
      }
      expect(expectOk(await api.connect(whatsapp())).object).toBe("Checkpoint");
      expect(gateway.received.map((r) => r.request.variant.case)).toEqual(["whatsapp"]);
    });
  });

  describe("configured, nothing listening: errors/no_channel", () => {
    let server: CheckpointServer;
    let port: number;
    beforeAll(async () => {
      port = await closedPort();
      server = await startCheckpointServer({ gateways: { TWITTER: `127.0.0.1:${port}` } });
    });
    afterAll(() => server.close());

    it("a closed port answers no_channel, at once and retryable; once a gateway listens there, the same request goes through", async () => {
      const api = rpc(server, wire);
      const username = login("ok");
      const started = Date.now();
      const e = expectError(await api.connect(twitter(username)), Code.Unavailable, "errors/no_channel");
      // "At once": not after a connect timeout (20 s in grpc-js); loose enough for a loaded machine.
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(e.retryInfo, "no_channel is retryable").toBeDefined();
      // The failed attempt does not block the identity.
      expectError(await api.connect(twitter(username)), Code.Unavailable, "errors/no_channel");

      const gateway = await startScriptedGateway({ port });
      try {
        const created = await eventually(async () => {
          const r = await api.connect(twitter(username));
          return r.ok ? r.response : undefined;
        }, 8000, "the gateway to be reachable again");
        expect(created.object).toBe("AccountCreated");
      } finally {
        await gateway.close();
      }
    });
  });

  describe("the gateway goes away mid-intent, then comes back", () => {
    let server: CheckpointServer;
    let gateway: ScriptedGateway;
    beforeAll(async () => {
      gateway = await startScriptedGateway();
      server = await startCheckpointServer({ gateways: { LINKEDIN: gateway.address } });
    });
    afterAll(async () => {
      await server.close();
      await gateway.close();
    });

    it("a solve while it is down answers no_channel and leaves the checkpoint open; after it is back the code connects", async () => {
      const api = rpc(server, wire);
      const r = expectOk(await api.connect(linkedinBasic(login("2fa"))));
      const watch = watchAccount(server, wire, server.apiKey, r.accountId);
      await watch.event(0);
      await gateway.stop();
      expectError(await api.solve(r.accountId, SCRIPT_CODE), Code.Unavailable, "errors/no_channel");
      await gateway.start();
      const solved = await eventually(async () => {
        const s = await api.solve(r.accountId, SCRIPT_CODE);
        if (!s.ok) expect(s.error.errorInfo?.metadata.type).toBe("errors/no_channel");
        return s.ok ? s.response : undefined;
      }, 8000, "the gateway to be reachable again");
      expect(solved.object).toBe("AccountCreated");
      const { events } = await watch.finished();
      expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
    });
  });

  describe("the gateway has no handler for the variant: errors/no_handler", () => {
    let server: CheckpointServer;
    let gateway: ScriptedGateway;
    let accounts: CheckpointServer;
    beforeAll(async () => {
      gateway = await startScriptedGateway({ unsupported: ["messengerSession"] });
      // Another gRPC server that is not a gateway at all: this service's own gRPC port.
      accounts = await startCheckpointServer();
      server = await startCheckpointServer({ gateways: { MESSENGER: gateway.address, TWITTER: accounts.grpcAddress } });
    });
    afterAll(async () => {
      await server.close();
      await accounts.close();
      await gateway.close();
    });

    it("a variant the gateway refuses answers no_handler (not retryable); its other variant works", async () => {
      const api = rpc(server, wire);
      const e = expectError(await api.connect(messengerSession()), Code.Unavailable, "errors/no_handler");
      expect(e.retryInfo).toBeUndefined();
      expect(expectOk(await api.connect(messenger(login("ok")))).object).toBe("AccountCreated");
    });

    it("an endpoint that does not serve the gateway service at all answers no_handler", async () => {
      expectError(await rpc(server, wire).connect(twitter(login("ok"))), Code.Unavailable, "errors/no_handler");
    });
  });

  describe("the gateway lost the provider session: errors/no_client_session", () => {
    let server: CheckpointServer;
    let gateway: ScriptedGateway;
    beforeAll(async () => {
      gateway = await startScriptedGateway({ qrRotateMs: 200, scanAfterMs: null });
      server = await startCheckpointServer({ gateways: { TWITTER: gateway.address, WHATSAPP: gateway.address } });
    });
    afterAll(async () => {
      await server.close();
      await gateway.close();
    });

    it("sessions dropped while a checkpoint waits: the watch sees FAILED no_client_session; calls then answer authentication_intent_error", async () => {
      const api = rpc(server, wire);
      const code = expectOk(await api.connect(twitter(login("2fa"))));
      const qr = expectOk(await api.connect(whatsapp()));
      const watches = [watchAccount(server, wire, server.apiKey, code.accountId), watchAccount(server, wire, server.apiKey, qr.accountId)];
      for (const w of watches) await w.event(0);
      gateway.dropSessions();
      for (const w of watches) {
        const { events, end } = await w.finished();
        expect(end).toEqual({ ok: true });
        expect(events.at(-1)).toMatchObject({ kind: AccountEventKind.FAILED, errorType: "errors/no_client_session" });
      }
      const e = expectError(await api.solve(code.accountId, SCRIPT_CODE), Code.Internal, "errors/authentication_intent_error");
      expect(e.errorInfo?.metadata.failure).toBe("errors/no_client_session");
    });

    it("a gateway that does not know the intent any more answers no_client_session to the call that finds out", async () => {
      const api = rpc(server, wire);
      // "crash": the worker dies when the code arrives.
      const r = expectOk(await api.connect(twitter(login("crash"))));
      expectError(await api.solve(r.accountId, SCRIPT_CODE), Code.Unavailable, "errors/no_client_session");
    });
  });
});

describe("a gateway process killed mid-intent (tools/scripted-gateway/main.ts)", () => {
  let gatewayProcess: ChildProcess | undefined;
  let server: CheckpointServer;
  let port: number;
  const output: string[] = [];

  async function startGatewayProcess(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", "tools/scripted-gateway/main.ts"], {
      cwd: ROOT,
      // The QR code's expiry becomes the intent's: it must outlive a restart of this process,
      // which takes seconds on a loaded machine, or the intent EXPIRES before the gateway is back.
      env: { ...process.env, GATEWAY_PORT: String(port), QR_ROTATE_MS: "600000", SCAN_AFTER_MS: "never" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        for (const line of lines) {
          output.push(line);
          if (line.includes("scripted gateway serving")) resolve();
        }
      });
      child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
      child.once("exit", (code) => reject(new Error(`gateway exited (${code}): ${output.join("\n")}`)));
    });
    await ready;
    return child;
  }

  beforeAll(async () => {
    port = await closedPort();
    gatewayProcess = await startGatewayProcess();
    server = await startCheckpointServer({ gateways: { WHATSAPP: `127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    gatewayProcess?.kill("SIGKILL");
    await server.close();
  });

  it("while it is down the intent waits (calls answer no_channel); when it restarts without the session, the watch sees FAILED no_client_session", async () => {
    const api = rpc(server, "grpc");
    const r = expectOk(await api.connect(whatsapp()));
    const watch = watchAccount(server, "grpc", server.apiKey, r.accountId);
    await watch.event(0);
    const exited = new Promise((resolve) => gatewayProcess!.once("exit", resolve));
    gatewayProcess!.kill("SIGKILL");
    await exited;
    expectError(await api.resend(r.accountId), Code.Unavailable, "errors/no_channel");
    // Still pending: nobody knows yet whether the session survived.
    const alpha = (await server.store.findWorkspaceByName("alpha"))!;
    expect((await server.store.getIntentByAccountId(alpha.id, r.accountId))?.status).toBe("CHECKPOINT");
    expect(kinds(watch.events)).toEqual(["CHECKPOINT"]);
    gatewayProcess = await startGatewayProcess();
    // Counted from the restarted gateway's readiness: the channel's reconnect backoff (at most 2 s) and the watch.
    const { events, end } = await watch.finished(15_000);
    expect(end).toEqual({ ok: true });
    expect(events.at(-1)).toMatchObject({ kind: AccountEventKind.FAILED, errorType: "errors/no_client_session" });
    expect(output.join("\n")).toContain('"method":"StreamEvents"');
    // Two gateway starts (seconds each under load) plus the watch's own budget.
  }, 60_000);
});
