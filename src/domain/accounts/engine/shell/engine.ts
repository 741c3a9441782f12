import type { Logger } from "pino";
import type { ConnectAccountRequest } from "../../../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../../../crypto/sealer.ts";
import { AppError } from "../../../../errors/app-error.ts";
import type { AccountRecord, IntentRecord, Store } from "../../../../store/store.ts";
import type { Variant } from "../../../connectors/connector.ts";
import type { InteractiveCall } from "../../../connectors/interactive.ts";
import { isInteractive, type AnyConnector, type ConnectorRegistry } from "../../../connectors/registry.ts";
import { openAccountSecrets } from "../../account-secrets.ts";
import { connectedAccount } from "../../connected-account.ts";
import type { Effect, Input, Login, Reply, Rules } from "../core/inputs.ts";
import { replyOf } from "../core/replies.ts";
import { step } from "../core/step.ts";
import { intentOf, patchOf, providerKeyOf } from "./records.ts";
import { backgroundCall, ProviderCalls } from "./provider-calls.ts";

export interface EngineDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  rules: Rules;
  now: () => Date;
  /** For work no request owns. */
  log: Logger;
}

/** What a call into the engine brings: the provider call's bounds, and the request when it is in memory (begin). */
export interface DispatchContext {
  log: Logger;
  /** For start/solve/resend: the caller's signal and deadline. Background work gets its own. */
  call?: InteractiveCall;
  request?: ConnectAccountRequest & { variant: Variant };
  /** Wait for the provider side's cancel before answering (CancelCheckpoint: the session is gone when the caller hears back). */
  awaitCancel?: boolean;
}

/** The intent after a dispatch, and what the command's caller gets. */
export interface Dispatched {
  record: IntentRecord;
  reply?: Reply;
  /** The provider call's own error, when the reply is callError. */
  error?: unknown;
  /** Set when this dispatch created the account. */
  account?: AccountRecord;
}

/** Compare-and-set losses after which a dispatch gives up (each loss means another writer made progress). */
const MAX_CAS_ATTEMPTS = 8;

/**
 * The thin shell around step(): reads the intent, steps the input, writes the result with a
 * compare-and-set on the intent's revision (a loser re-reads and steps again, so two replicas
 * applying one event do it once), then runs the effects, feeding their answers back in.
 */
export class IntentEngine {
  readonly deps: EngineDeps;
  private readonly calls: ProviderCalls;

  constructor(deps: EngineDeps) {
    this.deps = deps;
    this.calls = new ProviderCalls(deps.connectors);
  }

  async dispatch(record: IntentRecord, input: Input, ctx: DispatchContext): Promise<Dispatched> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const intent = intentOf(record);
      const transition = step(intent, input, this.deps.now().getTime(), this.deps.rules);
      let written = record;
      if (transition.intent !== intent) {
        const updated = await this.deps.store.updateOpenIntent(record.id, patchOf(intent, transition.intent), record.revision);
        if (!updated) {
          record = await this.reread(record);
          continue;
        }
        written = updated;
      }
      const after = await this.run(written, transition.effects, ctx);
      return { ...after, reply: after.reply ?? transition.reply };
    }
    throw new AppError("service_unavailable", { detail: "The intent kept changing under this call." });
  }

  /** Asks the provider side how an open interactive login stands, and steps its answer in. */
  async probe(record: IntentRecord, ctx: DispatchContext): Promise<Dispatched> {
    const reported = await this.calls.report(record, { type: "probe" }, backgroundCall(ctx.log));
    return this.dispatch(record, reported, ctx);
  }

  /** Runs the effects of a transition the store has already written (atomically with something else, e.g. a restart). */
  async effectsOf(before: IntentRecord, input: Input, ctx: DispatchContext): Promise<void> {
    const transition = step(intentOf(before), input, this.deps.now().getTime(), this.deps.rules);
    await this.run(before, transition.effects, ctx);
  }

  connectorOf(record: IntentRecord): AnyConnector | undefined {
    const flow = intentOf(record).flow;
    return flow.flow === "interactive" ? this.deps.connectors.connectorFor(flow.variant) : undefined;
  }

  private async run(record: IntentRecord, effects: Effect[], ctx: DispatchContext): Promise<Dispatched> {
    let result: Dispatched = { record };
    for (const effect of effects) {
      switch (effect.type) {
        case "cancelRemote":
          if (ctx.awaitCancel) await this.cancelRemote(result.record, ctx.log);
          else void this.cancelRemote(result.record, ctx.log);
          break;
        case "createAccount":
          result = await this.createAccount(result.record, effect.login, ctx);
          break;
        case "probe": {
          const background = { ...ctx, call: undefined };
          const reported: Input = await this.calls
            .report(result.record, { type: "probe" }, backgroundCall(ctx.log))
            .catch((error: unknown) => ({ type: "callFailed", call: "probe", errorKind: error instanceof AppError ? error.kind : "unexpected_error" }));
          const latest = (await this.dispatch(result.record, reported, background)).record;
          result = await this.dispatch(latest, { type: "expiry", probed: true }, background);
          break;
        }
        case "start":
        case "solve":
        case "resend":
          result = await this.callProvider(result.record, effect, ctx);
          break;
      }
    }
    return result;
  }

  /** A provider call whose answer decides the command's reply (the intent as that answer left it). */
  private async callProvider(record: IntentRecord, effect: Effect & { type: "start" | "solve" | "resend" }, ctx: DispatchContext): Promise<Dispatched> {
    const call = ctx.call ?? backgroundCall(ctx.log);
    let input: Input;
    try {
      input = await this.calls.report(record, effect, call, ctx.request);
    } catch (error) {
      const kind = error instanceof AppError ? error.kind : "unexpected_error";
      const failed = await this.dispatch(record, { type: "callFailed", call: effect.type, errorKind: kind }, ctx);
      return { ...failed, error };
    }
    // A stale record is fine: if the intent changed meanwhile, the compare-and-set re-reads it.
    const answered = await this.dispatch(record, input, ctx);
    // This very call led there: a failure is answered as itself, not as a dead intent.
    return { ...answered, reply: answered.reply ?? withFailureDetails(replyOf(intentOf(answered.record), true), input) };
  }

  private async createAccount(record: IntentRecord, login: Login, ctx: DispatchContext): Promise<Dispatched> {
    const { store, sealer, now } = this.deps;
    const request = ctx.request ?? this.sealedRequest(record);
    const at = now();
    const account = connectedAccount(record, request, { ...login, accessTokenExpiresAt: login.accessTokenExpiresAt === undefined ? undefined : new Date(login.accessTokenExpiresAt) }, sealer, at);
    const flow = intentOf(record).flow;
    const written = flow.reconnect ? await store.reconnectAccount(account, record.id, at) : await store.insertAccount(account, record.id, at);
    if ("inserted" in written || "reconnected" in written) {
      const stored = "inserted" in written ? written.inserted : written.reconnected;
      // A one-shot connect says it in its rpc line; an interactive one ends here, maybe long after any call.
      if (flow.flow === "interactive") ctx.log.info({ intentId: record.id, accountId: record.accountId }, flow.reconnect ? "account reconnected" : "account connected");
      // What the store's transaction did to the intent.
      const connected: IntentRecord = { ...record, status: "CONNECTED", closedAt: at, updatedAt: at, secrets: null, revision: record.revision + 1 };
      return { record: connected, account: stored };
    }
    if ("duplicateOf" in written) return this.dispatch(await this.reread(record), { type: "duplicate", accountId: written.duplicateOf }, ctx);
    if ("otherIdentity" in written) return this.dispatch(await this.reread(record), { type: "refused", errorKind: "account_mismatch" }, ctx);
    if ("accountGone" in written) return this.dispatch(await this.reread(record), { type: "refused", errorKind: "not_found" }, ctx);
    return { record: written.intentGone ?? (await this.reread(record)) };
  }

  /** An interactive intent keeps its request sealed under its own id while it waits (any replica may create the account). */
  private sealedRequest(record: IntentRecord): ConnectAccountRequest & { variant: Variant } {
    if (!record.secrets) throw new AppError("unexpected_error", { detail: "open intent without its sealed request" });
    return openAccountSecrets(this.deps.sealer, record.secrets, record.workspaceId, record.id).request;
  }

  /** Best effort: tells the provider side to drop a login we no longer want. Never throws. */
  cancelRemote(record: IntentRecord, log: Logger): Promise<void> {
    return Promise.resolve()
      .then(() => {
        // A variant no longer configured here has nothing to cancel.
        const connector = this.connectorOf(record);
        if (!connector || !isInteractive(connector)) return undefined;
        const flow = intentOf(record).flow;
        const call = backgroundCall(log);
        if (flow.flow === "interactive" && flow.replica) call.replica = flow.replica;
        return connector.cancel(providerKeyOf(record), call);
      })
      .then(() => undefined)
      .catch((err: unknown) => log.debug({ intentId: record.id, errorType: err instanceof AppError ? err.entry.type : undefined }, "provider cancel failed (best effort)"));
  }

  async reread(record: IntentRecord): Promise<IntentRecord> {
    const latest = await this.deps.store.getIntent(record.workspaceId, record.id);
    if (!latest) throw new AppError("unexpected_error", { detail: "intent vanished" });
    return latest;
  }
}

/** The provider's retry hint and safe metadata (a Telegram flood wait, the step that stopped a login) on the failure its report caused. */
function withFailureDetails(reply: Reply, input: Input): Reply {
  if (reply.type !== "error" || input.type !== "failed" || reply.kind !== input.errorKind) return reply;
  return { ...reply, metadata: { ...input.metadata, ...reply.metadata }, ...(input.retryAfterMs !== undefined ? { retryAfterMs: input.retryAfterMs } : {}) };
}
