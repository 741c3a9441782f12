import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ulid } from "ulid";
import { authenticate, apiKeyFromHeaders, type Caller } from "../auth/authenticator.ts";
import { AppError } from "../errors/app-error.ts";
import { asAppError, toConnectError } from "../errors/to-wire.ts";
import type { Store } from "../store/store.ts";

export type TransportName = "grpc" | "connect" | "grpc-web";

/** One RPC as both transports see it: the same steps, the same log line, the same errors. */
export interface Call {
  readonly requestId: string;
  readonly method: string;
  readonly transport: TransportName;
  readonly startedAt: number;
  readonly log: Logger;
  caller: Caller | undefined;
}

export const callKey = createContextKey<Call | undefined>(undefined);

/** The authenticated call of a handler context; the transports guarantee it is set. */
export function callOf(ctx: HandlerContext): Call & { caller: Caller } {
  const call = ctx.values.get(callKey);
  if (!call?.caller) throw new AppError("unexpected_error", { detail: "call context missing" });
  return call as Call & { caller: Caller };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface CallPipeline {
  begin(method: string, transport: TransportName, header: (name: string) => string | undefined): Call;
  authenticate(call: Call, header: (name: string) => string | undefined): Promise<void>;
  /** Logs the one line of the RPC and turns a failure into the wire error both transports send. */
  finish(call: Call, error?: unknown): ConnectError | undefined;
}

export function createCallPipeline(deps: { store: Store; log: Logger }): CallPipeline {
  return {
    begin(method, transport, header) {
      const given = header("x-request-id");
      const requestId = given && REQUEST_ID.test(given) ? given : ulid();
      return { requestId, method, transport, startedAt: performance.now(), log: deps.log.child({ requestId }), caller: undefined };
    },
    async authenticate(call, header) {
      call.caller = await authenticate(deps.store, apiKeyFromHeaders(header));
    },
    finish(call, error) {
      const durationMs = Math.round((performance.now() - call.startedAt) * 100) / 100;
      const line = { method: call.method, transport: call.transport, workspace: call.caller?.workspaceId, durationMs };
      if (error === undefined) {
        call.log.info({ ...line, code: "OK" }, "rpc");
        return undefined;
      }
      const appError = fromAbort(error) ?? asAppError(error);
      const wire = toConnectError(appError, call.requestId);
      const fields = { ...line, code: Code[wire.code], errorType: appError.entry.type };
      if (appError.kind === "unexpected_error") call.log.error({ ...fields, err: appError.cause }, "rpc");
      else call.log.info(fields, "rpc");
      return wire;
    },
  };
}

/** Errors the runtime raises when the caller's deadline passes or it cancels. */
function fromAbort(error: unknown): AppError | undefined {
  if (error instanceof ConnectError && error.code === Code.DeadlineExceeded) return new AppError("request_timeout", { cause: error });
  if (error instanceof ConnectError && error.code === Code.Canceled) return new AppError("request_canceled", { cause: error });
  return undefined;
}
