import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { ConnectAccountRequest } from "../../../../../gen/postpress/accounts/v1/account_service_pb.js";
import { AppError } from "../../../../errors/app-error.ts";
import type { IntentRecord } from "../../../../store/store.ts";
import { innerDeadline } from "../../../deadline.ts";
import { untilAborted } from "../../../until-aborted.ts";
import type { Connector, Variant } from "../../../connectors/connector.ts";
import type { AuthState, InteractiveCall, InteractiveConnector } from "../../../connectors/interactive.ts";
import { isInteractive, type ConnectorRegistry } from "../../../connectors/registry.ts";
import { inputOfReport, type Effect, type Input } from "../core/inputs.ts";
import type { InteractiveFlow } from "../core/intent.ts";
import { intentOf } from "./records.ts";

/** Bound on a call no caller is waiting for (probing, canceling at the provider side). */
const BACKGROUND_CALL_MS = 3_000;
/** After an event stream that ended without an outcome, the wait before listening again. */
const RELISTEN_MS = 250;

/** A call no caller waits on: bounded by its own short deadline. */
export function backgroundCall(log: Logger): InteractiveCall {
  return { signal: AbortSignal.timeout(BACKGROUND_CALL_MS), deadline: new Date(Date.now() + BACKGROUND_CALL_MS), log };
}

/** The provider-side calls of the engine's effects, each answered as the step input it stands for. */
export class ProviderCalls {
  private readonly connectors: ConnectorRegistry;

  constructor(connectors: ConnectorRegistry) {
    this.connectors = connectors;
  }

  async report(record: IntentRecord, effect: Effect & { type: "start" | "solve" | "resend" | "probe" }, call: InteractiveCall, request?: ConnectAccountRequest & { variant: Variant }): Promise<Input> {
    const flow = intentOf(record).flow;
    // The provider side answers a little before our own deadline, so its timeout is ours to report.
    // Not a spread: that would read `log`, which a caller may make on first use.
    const bounded: InteractiveCall = {
      signal: call.signal,
      deadline: innerDeadline(call.deadline),
      get log() {
        return call.log;
      },
      ...(call.replica === undefined ? {} : { replica: call.replica }),
    };
    if (flow.flow === "one_shot") {
      if (effect.type !== "start" || !request) throw new AppError("no_pending_checkpoint", { metadata: { accountId: record.accountId } });
      return this.connectOnce(request, bounded);
    }
    const connector = this.interactive(flow);
    // Behind replicated gateways the call goes to the replica that holds the session.
    if (flow.replica) bounded.replica = flow.replica;
    let state: AuthState;
    switch (effect.type) {
      case "start":
        if (!request) throw new AppError("unexpected_error", { detail: "start without its request" });
        state = await connector.start({ intentId: flow.key, workspaceId: record.workspaceId, accountId: record.accountId, request }, bounded);
        break;
      case "solve":
        state = await connector.solve(flow.key, effect.code, bounded);
        break;
      case "resend":
        state = await connector.resend(flow.key, bounded);
        break;
      case "probe":
        return inputOfReport(await connector.get(flow.key, bounded));
    }
    if (state.status === "PENDING") state = await firstOutcome(connector, flow.key, bounded);
    return inputOfReport(state);
  }

  private interactive(flow: InteractiveFlow): InteractiveConnector {
    const connector = this.connectors.connectorFor(flow.variant);
    if (!isInteractive(connector)) throw new AppError("feature_not_implemented", { detail: `The ${flow.variant} variant has no checkpoints here.`, metadata: { variant: flow.variant } });
    return connector;
  }

  /** The one-shot connector's single answer; a connector that ignores the signal is not waited for past it. */
  private async connectOnce(request: ConnectAccountRequest & { variant: Variant }, call: InteractiveCall): Promise<Input> {
    const connector = this.connectors.connectorFor(request.variant.case) as Connector;
    call.signal.throwIfAborted();
    const input = {
      variant: request.variant.value,
      shared: { country: request.country, ip: request.ip },
      signal: call.signal,
      deadline: call.deadline,
      // Read only if the connector logs: a call's logger is made on first use.
      get log() {
        return call.log;
      },
    };
    const result = await untilAborted(connector.connect(input), call.signal);
    call.signal.throwIfAborted();
    return {
      type: "connected",
      version: 0,
      login: {
        identity: result.identity,
        ...(result.details ? { details: result.details } : {}),
        ...(result.updatedSecrets ? { updatedSecrets: result.updatedSecrets } : {}),
        ...(result.accessTokenExpiresAt ? { accessTokenExpiresAt: result.accessTokenExpiresAt.getTime() } : {}),
        ...(result.grantedScopes ? { grantedScopes: result.grantedScopes } : {}),
      },
    };
  }
}

/** After a PENDING answer: the provider side's events until the first real outcome, within the call's signal. */
async function firstOutcome(connector: InteractiveConnector, key: string, call: InteractiveCall): Promise<AuthState> {
  while (!call.signal.aborted) {
    for await (const event of connector.events(key, call.signal, call.log)) {
      if (event.state.status !== "PENDING") return event.state;
    }
    await sleep(RELISTEN_MS, undefined, { signal: call.signal }).catch(() => {});
  }
  throw call.signal.reason;
}
