import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";
import { apiKeyFromHeaders, createAuthenticator, type Caller } from "../auth/authenticator.ts";
import { requireScope } from "../auth/scopes.ts";
import { AppError } from "../errors/app-error.ts";
import { asAppError, toConnectError } from "../errors/to-wire.ts";
import { newId } from "../ids.ts";
import { withoutRedaction } from "../logging.ts";
import type { MetricsSink } from "../observability/metrics.ts";
import { startRpcTrace, type RpcRef, type RpcTrace } from "../observability/rpc-trace.ts";
import type { Store } from "../store/store.ts";

export type TransportName = "grpc" | "connect" | "grpc-web" | "rest";

/** One RPC as both transports see it: the same steps, the same log line, the same errors. */
export interface Call {
  readonly requestId: string;
  readonly method: string;
  /** The RPC itself (service and method): what the authenticate step checks the key's scopes against. */
  readonly rpc: RpcRef;
  readonly transport: TransportName;
  readonly startedAt: number;
  readonly log: Logger;
  /** Its span; `trace.inContext` runs work under it (see rpc-trace.ts). */
  readonly trace: RpcTrace;
  caller: Caller | undefined;
  /** Set once `finish` has run: whatever aborts the call's signals after that is not a cancellation. */
  ended: boolean;
}

/**
 * The abort reason of a call's signals once it has been answered. Nothing went wrong, so one
 * object serves every call: a fresh error per successful call would cost a stack trace each.
 */
export const CALL_ENDED = new AppError("request_canceled", { detail: "The call has ended." });

export const callKey = createContextKey<Call | undefined>(undefined);

/** The authenticated call of a handler context; the transports guarantee it is set. */
export function callOf(ctx: HandlerContext): Call & { caller: Caller } {
  const call = ctx.values.get(callKey);
  if (!call?.caller) throw new AppError("unexpected_error", { detail: "call context missing" });
  return call as Call & { caller: Caller };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface CallPipeline {
  begin(method: RpcRef, transport: TransportName, header: (name: string) => string | undefined): Call;
  /** Checks the API key, then that its scopes allow the call's RPC (auth/scopes.ts). */
  authenticate(call: Call, header: (name: string) => string | undefined): Promise<void>;
  /** Logs the one line of the RPC and turns a failure into the wire error both transports send. */
  finish(call: Call, error?: unknown): ConnectError | undefined;
}

/**
 * `apiKeyCacheMs`: how long a key read from the store is trusted (see createAuthenticator).
 * `metrics`: where each answered call is counted (none in unit tests).
 */
export function createCallPipeline(deps: { store: Store; log: Logger; apiKeyCacheMs: number; metrics?: MetricsSink }): CallPipeline {
  const authenticate = createAuthenticator(deps.store, { cacheMs: deps.apiKeyCacheMs });
  // Its fields are ours and never secret; an error's cause, which might carry anything, goes through call.log.
  const rpcLine = withoutRedaction(deps.log);
  return {
    begin(method, transport, header) {
      const given = header("x-request-id");
      const requestId = given && REQUEST_ID.test(given) ? given : newId();
      return new PipelineCall(requestId, method, transport, startRpcTrace(method, transport, header), deps.log);
    },
    async authenticate(call, header) {
      call.caller = await authenticate(apiKeyFromHeaders(header));
      requireScope(call.rpc, call.caller.scopes);
    },
    finish(call, error) {
      call.ended = true;
      const elapsedMs = performance.now() - call.startedAt;
      const durationMs = Math.round(elapsedMs * 100) / 100;
      const { traceId } = call.trace;
      const line = { method: call.method, transport: call.transport, workspace: call.caller?.workspaceId, durationMs, traceId };
      if (error === undefined) {
        rpcLine.info({ requestId: call.requestId, ...line, code: "OK" }, "rpc");
        deps.metrics?.rpc(call.method, call.transport, "OK", elapsedMs / 1000);
        call.trace.end(undefined);
        return undefined;
      }
      const appError = fromAbort(error) ?? asAppError(error);
      const wire = toConnectError(appError, call.requestId);
      const fields = { ...line, code: Code[wire.code], errorType: appError.entry.type };
      deps.metrics?.rpc(call.method, call.transport, fields.code, elapsedMs / 1000);
      call.trace.end(wire.code, appError.kind);
      if (appError.kind === "unexpected_error") call.log.error({ ...fields, err: appError.cause }, "rpc");
      else rpcLine.info({ requestId: call.requestId, ...fields }, "rpc");
      return wire;
    },
  };
}

/**
 * A class rather than an object literal with a `log` getter: the literal made a getter closure,
 * and an object shape of its own, for every call.
 */
class PipelineCall implements Call {
  readonly method: string;
  readonly startedAt = performance.now();
  caller: Caller | undefined = undefined;
  ended = false;
  readonly requestId: string;
  readonly rpc: RpcRef;
  readonly transport: TransportName;
  readonly trace: RpcTrace;
  private readonly rootLog: Logger;
  private childLog: Logger | undefined;

  constructor(requestId: string, rpc: RpcRef, transport: TransportName, trace: RpcTrace, rootLog: Logger) {
    this.requestId = requestId;
    this.method = rpc.name;
    this.rpc = rpc;
    this.transport = transport;
    this.trace = trace;
    this.rootLog = rootLog;
  }

  // Made on first use: most calls log nothing but their rpc line.
  get log(): Logger {
    return (this.childLog ??= this.rootLog.child({ requestId: this.requestId }));
  }
}

/** Errors the runtime raises when the caller's deadline passes or it cancels. */
function fromAbort(error: unknown): AppError | undefined {
  if (error instanceof ConnectError && error.code === Code.DeadlineExceeded) return new AppError("request_timeout", { cause: error });
  if (error instanceof ConnectError && error.code === Code.Canceled) return new AppError("request_canceled", { cause: error });
  return undefined;
}
