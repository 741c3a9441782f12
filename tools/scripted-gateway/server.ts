import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { ConnectAccountRequest } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ConnectSettingsSchema } from "../../gen/postpress/credentials/v1/credentials_pb.js";
import { ProviderGatewayService, type AuthenticationState, type StreamEventsResponse } from "../../gen/postpress/gateway/v1/gateway_pb.js";
import { eventToProto, stateToProto } from "../../src/domain/connectors/gateway/to-proto.ts";
import { connectRequestOf } from "../../src/domain/credentials/connect-request.ts";
import type { AuthEventKind, AuthState } from "../../src/domain/connectors/interactive.ts";
import { catalogue } from "../../src/errors/catalogue.ts";
import { listenH2c, type H2cListener } from "../../src/gateway/h2c.ts";
import { GatewayFault, ScriptEngine, type ScriptOptions, type Session, type SessionEvent } from "./engine.ts";

export interface ScriptedGatewayOptions extends Partial<ScriptOptions> {
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** One line per call (method, intent id, variant, outcome): never a secret. */
  log?: (line: Record<string, unknown>) => void;
}

/** What a test can see of the requests the gateway received (the full request, as a worker would). */
export interface ReceivedStart {
  intentId: string;
  workspaceId: string;
  accountId: string;
  request: ConnectAccountRequest;
}

export interface ScriptedGateway {
  /** host:port, as GATEWAY_URL_<PROVIDER> takes it. */
  readonly address: string;
  readonly port: number;
  readonly engine: ScriptEngine;
  readonly received: ReceivedStart[];
  /** Calls by method name. */
  readonly calls: { method: string; intentId: string }[];
  /** The person confirms on the phone now (QR scanned, pairing code typed, app approval). */
  confirm(intentId: string): void;
  /** The worker loses every provider session (it restarted without its state). */
  dropSessions(): void;
  /** The gateway server goes away (connections cut); its sessions stay in memory. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const DOMAIN = "scripted-gateway.postpress.app";

/** A provider-session gateway that plays scripted behaviours (see engine.ts), over real gRPC (h2c). */
export async function startScriptedGateway(options: ScriptedGatewayOptions = {}): Promise<ScriptedGateway> {
  const engine = new ScriptEngine(options);
  const received: ReceivedStart[] = [];
  const calls: { method: string; intentId: string }[] = [];
  const log = options.log ?? (() => {});
  const host = options.host ?? "127.0.0.1";

  const fault = (error: unknown): ConnectError => {
    if (error instanceof ConnectError) return error;
    const kind = error instanceof GatewayFault ? error.kind : "provider_error";
    const entry = catalogue[kind];
    return new ConnectError(error instanceof Error ? error.message : "failed", entry.code, undefined, [
      { desc: ErrorInfoSchema, value: { reason: entry.reason, domain: DOMAIN, metadata: { type: entry.type, httpStatus: String(entry.httpStatus) } } },
    ]);
  };

  /** Runs a handler; every failure leaves as a status with ErrorInfo. */
  async function handle<T>(method: string, intentId: string, fn: () => Promise<T> | T): Promise<T> {
    calls.push({ method, intentId });
    try {
      const out = await fn();
      log({ method, intentId, outcome: "ok" });
      return out;
    } catch (error) {
      const wire = fault(error);
      log({ method, intentId, outcome: Code[wire.code], type: error instanceof GatewayFault ? catalogue[error.kind].type : undefined });
      throw wire;
    }
  }

  const impl: ServiceImpl<typeof ProviderGatewayService> = {
    startAuthentication(req, ctx) {
      return handle("StartAuthentication", req.intentId, async () => {
        if (!req.credentials) throw new GatewayFault("invalid_parameters", "no credentials");
        // Scripts are written against the accounts API's variants: the contract's credentials, translated back.
        const request = connectRequestOf({ credentials: req.credentials, settings: req.settings ?? create(ConnectSettingsSchema) });
        received.push({ intentId: req.intentId, workspaceId: req.workspaceId, accountId: req.accountId, request });
        const session = await engine.start(req.intentId, request, ctx.signal);
        return { state: sessionToProto(session) };
      });
    },
    async *streamEvents(req, ctx) {
      calls.push({ method: "StreamEvents", intentId: req.intentId });
      let session: Session;
      try {
        session = engine.get(req.intentId);
      } catch (error) {
        const wire = fault(error);
        log({ method: "StreamEvents", intentId: req.intentId, outcome: Code[wire.code], type: error instanceof GatewayFault ? catalogue[error.kind].type : undefined });
        throw wire;
      }
      log({ method: "StreamEvents", intentId: req.intentId, outcome: "streaming" });
      yield* follow(session, ctx);
    },
    solve(req) {
      return handle("Solve", req.intentId, () => {
        const session = engine.get(req.intentId);
        session.solve(req.code);
        return { state: sessionToProto(session) };
      });
    },
    resend(req) {
      return handle("Resend", req.intentId, () => {
        const session = engine.get(req.intentId);
        session.resend();
        return { state: sessionToProto(session) };
      });
    },
    cancel(req) {
      return handle("Cancel", req.intentId, () => {
        const session = engine.get(req.intentId);
        session.cancel();
        return { state: sessionToProto(session) };
      });
    },
    getIntent(req) {
      return handle("GetIntent", req.intentId, () => ({ state: sessionToProto(engine.get(req.intentId)) }));
    },
  };

  /** SNAPSHOT first, then each change, until a final state; a lost session ends it with no_client_session. */
  async function* follow(session: Session, ctx: HandlerContext): AsyncGenerator<MessageInitShape<typeof ProviderGatewayService.method.streamEvents.output>> {
    const queue: (SessionEvent | Error)[] = [];
    let wake: (() => void) | undefined;
    const off = session.subscribe((event) => {
      queue.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    ctx.signal.addEventListener("abort", onAbort);
    try {
      yield eventOf("SNAPSHOT", session, session.intentId);
      if (session.final) return;
      while (!ctx.signal.aborted) {
        const next = queue.shift();
        if (!next) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        if (next instanceof Error) throw fault(next);
        yield eventOf(next.kind, next.state, session.intentId);
        if (["CONNECTED", "FAILED", "CANCELED", "EXPIRED"].includes(next.state.status)) return;
      }
    } finally {
      off();
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  const handler = connectNodeAdapter({ routes: (router) => router.service(ProviderGatewayService, impl) });
  let listener: H2cListener | undefined;
  let port = options.port ?? 0;

  async function listen(): Promise<void> {
    listener = await listenH2c(handler, host, port);
    port = listener.port;
  }

  async function shutdown(): Promise<void> {
    const l = listener;
    listener = undefined;
    await l?.close();
  }

  await listen();
  return {
    get address() {
      return `${host}:${port}`;
    },
    get port() {
      return port;
    },
    engine,
    received,
    calls,
    confirm: (intentId) => engine.confirm(intentId),
    dropSessions: () => engine.dropAll(),
    stop: shutdown,
    start: listen,
    async close() {
      engine.close();
      await shutdown();
    },
  };
}

function sessionToProto(session: Session): AuthenticationState {
  return stateToProto(session.state, session.intentId);
}

function eventOf(kind: AuthEventKind, source: Session | AuthState, intentId: string): StreamEventsResponse {
  return eventToProto({ kind, state: "state" in source ? source.state : source }, intentId);
}
