import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ConnectSettingsSchema } from "../../gen/postpress/credentials/v1/credentials_pb.js";
import { ProviderGatewayService } from "../../gen/postpress/gateway/v1/gateway_pb.js";
import { eventToProto, stateToProto } from "../domain/connectors/gateway/to-proto.ts";
import type { AuthState, InteractiveCall, InteractiveConnector } from "../domain/connectors/interactive.ts";
import { connectRequestOf } from "../domain/credentials/connect-request.ts";
import { AppError } from "../errors/app-error.ts";
import { asAppError, toConnectError } from "../errors/to-wire.ts";

type StreamEvent = MessageInitShape<typeof ProviderGatewayService.method.streamEvents.output>;

/** Bound on a call whose caller set no deadline. */
const DEFAULT_CALL_MS = 30_000;

export interface GatewayServiceOptions {
  /** host:port of this replica, answered on every state so that later calls about an intent come back here. */
  replicaAddress: string;
  log: Logger;
}

/**
 * ProviderGatewayService served from an InteractiveConnector (the driver host): the same
 * states, events and catalogue errors the server gets in process, over gRPC. Every state
 * carries this replica's address; the session leaves only on CONNECTED, never in a log line.
 */
export function gatewayServiceImpl(connector: InteractiveConnector, options: GatewayServiceOptions): ServiceImpl<typeof ProviderGatewayService> {
  const { log } = options;
  const withReplica = (state: AuthState): AuthState => ({ ...state, replica: options.replicaAddress });

  function callOf(ctx: HandlerContext, method: string, intentId: string): InteractiveCall {
    const ms = ctx.timeoutMs();
    return { signal: ctx.signal, deadline: new Date(Date.now() + (ms !== undefined && ms > 0 ? ms : DEFAULT_CALL_MS)), log: log.child({ method, intentId }) };
  }

  /** One log line per call (method, intent, outcome); failures leave as catalogue statuses with ErrorInfo (and RetryInfo). */
  async function handle(method: string, intentId: string, ctx: HandlerContext, run: (call: InteractiveCall) => Promise<AuthState>) {
    const call = callOf(ctx, method, intentId);
    try {
      if (!intentId) throw new AppError("missing_parameters", { detail: "intent_id is required." });
      const state = await run(call);
      call.log.debug({ status: state.status }, "gateway call");
      return { state: stateToProto(withReplica(state), intentId) };
    } catch (error) {
      const appError = asAppError(error);
      call.log[appError.kind === "unexpected_error" ? "error" : "info"]({ errorType: appError.entry.type, err: appError.kind === "unexpected_error" ? error : undefined }, "gateway call failed");
      throw toConnectError(appError, intentId);
    }
  }

  return {
    startAuthentication(req, ctx) {
      return handle("StartAuthentication", req.intentId, ctx, (call) => {
        if (!req.credentials?.family.case) throw new AppError("missing_parameters", { detail: "credentials of a provider family are required." });
        // A host starts from the engine's input (the accounts API's request); it hands its drivers the credentials type again.
        const request = connectRequestOf({ credentials: req.credentials, settings: req.settings ?? create(ConnectSettingsSchema) });
        return connector.start({ intentId: req.intentId, workspaceId: req.workspaceId, accountId: req.accountId, request }, call);
      });
    },
    solve(req, ctx) {
      return handle("Solve", req.intentId, ctx, (call) => connector.solve(req.intentId, req.code, call));
    },
    resend(req, ctx) {
      return handle("Resend", req.intentId, ctx, (call) => connector.resend(req.intentId, call));
    },
    cancel(req, ctx) {
      return handle("Cancel", req.intentId, ctx, (call) => connector.cancel(req.intentId, call));
    },
    getIntent(req, ctx) {
      return handle("GetIntent", req.intentId, ctx, (call) => connector.get(req.intentId, call));
    },
    async *streamEvents(req, ctx): AsyncGenerator<StreamEvent> {
      const streamLog = log.child({ method: "StreamEvents", intentId: req.intentId });
      try {
        for await (const event of connector.events(req.intentId, ctx.signal, streamLog)) yield eventToProto({ ...event, state: withReplica(event.state) }, req.intentId);
      } catch (error) {
        if (error instanceof ConnectError || ctx.signal.aborted) throw error;
        const appError = asAppError(error);
        streamLog.info({ errorType: appError.entry.type }, "gateway stream failed");
        throw toConnectError(appError, req.intentId);
      }
    },
  };
}
