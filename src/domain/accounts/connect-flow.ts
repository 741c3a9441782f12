import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, IntentRecord, OpenIntentResult, Store } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import { isInteractive, type ConnectorRegistry } from "../connectors/registry.ts";
import { sealAccountSecrets } from "./account-secrets.ts";
import type { CallScope } from "./call-scope.ts";
import { flowStateToJson } from "./engine/core/flow-state.ts";
import type { DispatchContext, IntentEngine } from "./engine/shell/engine.ts";
import type { IntentHub } from "./engine/shell/hub.ts";
import { newIntent, newReconnectIntent } from "./new-intent.ts";
import { authInProgress } from "./auth-in-progress.ts";
import { notFound, outcomeOf, type ConnectOutcome } from "./outcomes.ts";

export interface ConnectFlowDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  engine: IntentEngine;
  hub: IntentHub;
  intentTtlMs: number;
  /** Open intents a workspace may have at once (undefined: no limit). */
  maxPendingIntents: number | undefined;
  now: () => Date;
}

/**
 * ConnectAccount and ReconnectAccount: an intent for the identity (one open per identity,
 * restart replaces it, a workspace has at most maxPendingIntents), then the engine's "begin": a
 * one-shot connector answers once; an interactive login may stop at a checkpoint and go on
 * from any replica.
 */
export class ConnectFlow {
  private readonly deps: ConnectFlowDeps;

  constructor(deps: ConnectFlowDeps) {
    this.deps = deps;
  }

  begin(request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<ConnectOutcome> {
    return this.run(request, newIntent(request, scope.workspaceId, this.deps.now(), this.deps.intentTtlMs), false, scope);
  }

  /** ReconnectAccount: the same, on an intent that carries the live account's id; its success replaces the account's credentials. */
  reconnect(account: AccountRecord, request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<ConnectOutcome> {
    return this.run(request, newReconnectIntent(account, this.deps.now(), this.deps.intentTtlMs), true, scope);
  }

  private async run(request: ConnectAccountRequest & { variant: Variant }, base: IntentRecord, reconnect: boolean, scope: CallScope): Promise<ConnectOutcome> {
    const { engine, hub, store } = this.deps;
    const connector = this.deps.connectors.connectorFor(request.variant.case);
    const interactive = isInteractive(connector);
    const marker = reconnect ? { reconnect: true as const } : {};
    const intent: IntentRecord = interactive
      ? {
          ...base,
          state: flowStateToJson({ flow: "interactive", variant: request.variant.case, key: base.id, version: 0, seq: 0, checkpoint: null, ...marker }),
          // Whichever replica creates the account needs the request: sealed under the intent's id
          // (key rotation re-seals intents under the same context), re-sealed under the account's.
          secrets: sealAccountSecrets(this.deps.sealer, { request }, scope.workspaceId, base.id),
        }
      : { ...base, state: flowStateToJson({ flow: "one_shot", ...marker }) };
    await this.open(intent, request.restart, reconnect, scope);
    // A one-shot call reads the scope's logger only when something logs: made for every call, the
    // child logger (its bindings walked by the redaction) cost more than the rest of the call's logging.
    const log = interactive ? scope.log.child({ intentId: intent.id, accountId: intent.accountId }) : undefined;
    const logOf = log ? () => log : () => scope.log;
    // An interactive start stops at once when the intent is ended by something else (a restart, the expiry).
    const tracked = interactive ? hub.hold(intent) : undefined;
    const signal = tracked ? AbortSignal.any([scope.signal, tracked.interrupted.signal]) : scope.signal;
    const ctx: DispatchContext = {
      get log() {
        return logOf();
      },
      call: {
        signal,
        deadline: scope.deadline,
        get log() {
          return logOf();
        },
      },
      request,
    };
    try {
      let dispatched;
      try {
        dispatched = await engine.dispatch(intent, { type: "begin" }, ctx);
      } catch (error) {
        // Recording the provider's answer failed (the store went away): the intent cannot go on; its end is best effort (else it expires).
        const errorKind = error instanceof AppError ? error.kind : "unexpected_error";
        await engine.dispatch(intent, { type: "callFailed", call: "start", errorKind }, { log: ctx.log }).catch((e: unknown) => ctx.log.warn({ err: e, intentId: intent.id }, "could not close intent; it will expire"));
        throw error;
      }
      hub.offer(dispatched.record);
      // This replica follows the provider side from now on (a QR scanned while nobody watches still creates the account).
      if (dispatched.record.status === "CHECKPOINT") hub.follow(dispatched.record);
      return await outcomeOf(store, dispatched);
    } finally {
      if (tracked) hub.release(tracked);
    }
  }

  /**
   * Opens the intent; an open one for the same identity (a reconnection: of the same account)
   * answers auth_in_progress, or is canceled on restart. A reconnection marks its account
   * RECONNECTING in the same transaction; an account gone meanwhile is not_found.
   */
  private async open(intent: IntentRecord, restart: boolean, reconnect: boolean, scope: CallScope): Promise<void> {
    const { store, engine, now, maxPendingIntents } = this.deps;
    const openOnce = async (restarting: boolean): Promise<OpenIntentResult> => {
      if (!reconnect) return store.openIntent(intent, now(), restarting, maxPendingIntents);
      const result = await store.openReconnectIntent(intent, now(), restarting, maxPendingIntents);
      if ("accountGone" in result) throw notFound(intent.accountId);
      return result;
    };
    const first = await openOnce(false);
    if ("opened" in first) return;
    if ("tooMany" in first) throw tooMany(first.tooMany.limit);
    const earlier = first.inProgress;
    if (!restart) throw authInProgress(earlier.expiresAt, now());
    // The store cancels the earlier intent and opens this one in one transaction; the engine runs what that transition asks for.
    const again = await openOnce(true);
    if ("tooMany" in again) throw tooMany(again.tooMany.limit);
    if ("inProgress" in again) throw authInProgress(again.inProgress.expiresAt, now());
    scope.log.info({ intentId: intent.id, canceledIntentId: earlier.id }, "restart canceled the earlier intent");
    await engine.effectsOf(earlier, { type: "restart" }, { log: scope.log });
  }
}

function tooMany(limit: number): AppError {
  return new AppError("too_many_pending_intents", { metadata: { limit: String(limit) }, retryAfterMs: 5_000 });
}
