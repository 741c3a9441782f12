import { once } from "node:events";
import type { Logger } from "pino";
import type { AccountRecord, IntentRecord, Store } from "../../store/store.ts";
import type { CallScope } from "./call-scope.ts";
import type { Input } from "./engine/core/inputs.ts";
import { isOpen } from "./engine/core/intent.ts";
import { eventOf, type Seen, type WatchEvent } from "./engine/core/watch-events.ts";
import type { IntentEngine } from "./engine/shell/engine.ts";
import type { IntentHub } from "./engine/shell/hub.ts";
import { intentOf } from "./engine/shell/records.ts";
import { notFound, outcomeOf, shuttingDown, type ConnectOutcome } from "./outcomes.ts";
import { AppError } from "../../errors/app-error.ts";

export interface IntentCommandsDeps {
  store: Store;
  engine: IntentEngine;
  hub: IntentHub;
}

/**
 * SolveCheckpoint, ResendCheckpoint, CancelCheckpoint, WatchAccount and GetAccount's
 * reconciling of a pending id: each addresses the newest intent of a pending account id, from
 * any replica, and hands its command to the engine.
 */
export class IntentCommands {
  private readonly deps: IntentCommandsDeps;

  constructor(deps: IntentCommandsDeps) {
    this.deps = deps;
  }

  solve(workspaceId: string, accountId: string, code: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.command(workspaceId, accountId, { type: "solve", code }, scope);
  }

  resend(workspaceId: string, accountId: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.command(workspaceId, accountId, { type: "resend" }, scope);
  }

  async cancel(workspaceId: string, accountId: string, scope: CallScope): Promise<void> {
    const record = await this.intentOf(workspaceId, accountId);
    const log = scope.log.child({ intentId: record.id, accountId });
    const dispatched = await this.deps.engine.dispatch(record, { type: "cancel" }, { log, awaitCancel: true });
    this.deps.hub.offer(dispatched.record);
    if (dispatched.reply?.type === "canceled") {
      if (dispatched.record.revision !== record.revision) log.info("intent canceled");
      return;
    }
    await outcomeOf(this.deps.store, dispatched);
    throw new AppError("no_pending_checkpoint", { metadata: { accountId } });
  }

  /** The intent's current state, then each change, until it ends (or the caller goes, or the service stops). */
  async *watch(workspaceId: string, accountId: string, scope: CallScope): AsyncGenerator<WatchEvent> {
    const { store, hub } = this.deps;
    const record = await store.getIntentByAccountId(workspaceId, accountId);
    if (!record) {
      const account = await store.getAccount(workspaceId, accountId);
      if (!account || account.status === "DELETED") throw notFound(accountId);
      yield { kind: "CONNECTED", accountId, at: account.createdAt.getTime() };
      return;
    }
    if (!isOpen(record)) {
      yield eventOf(intentOf(record), undefined)!.event;
      return;
    }
    const tracked = hub.hold(record);
    // Whoever watches an intent follows it too: the replica that started it may be gone.
    hub.follow(record);
    let dirty = true;
    const onChange = () => {
      dirty = true;
    };
    tracked.changes.on("change", onChange);
    try {
      let seen: Seen | undefined;
      for (;;) {
        dirty = false;
        const latest = tracked.latest;
        const next = eventOf(intentOf(latest), seen);
        if (next) {
          seen = next.seen;
          yield next.event;
          if (!isOpen(latest)) return;
        }
        if (tracked.finished) {
          if (isOpen(tracked.latest)) throw shuttingDown();
          continue;
        }
        if (!dirty) await once(tracked.changes, "change", { signal: scope.signal }).catch((err: unknown) => Promise.reject(scope.signal.aborted ? scope.signal.reason : err));
      }
    } finally {
      tracked.changes.off("change", onChange);
      hub.release(tracked);
    }
  }

  /**
   * A GetAccount on an id that has no account yet: if its intent is open, ask the provider
   * side how it stands and record what it says (the replica that followed it may be gone).
   * Returns the account if that created it.
   */
  async reconcile(workspaceId: string, accountId: string, log: Logger): Promise<AccountRecord | undefined> {
    const record = await this.deps.store.getIntentByAccountId(workspaceId, accountId);
    if (!record || !isOpen(record) || intentOf(record).flow.flow !== "interactive") return undefined;
    try {
      const dispatched = await this.deps.engine.probe(record, { log });
      this.deps.hub.offer(dispatched.record);
      if (dispatched.account) return dispatched.account;
      return dispatched.record.status === "CONNECTED" ? await this.deps.store.getAccount(workspaceId, accountId) : undefined;
    } catch {
      // Not reachable now: the intent stays as it is.
      return undefined;
    }
  }

  private async command(workspaceId: string, accountId: string, input: Input, scope: CallScope): Promise<ConnectOutcome> {
    const { engine, hub } = this.deps;
    const record = await this.intentOf(workspaceId, accountId);
    const log = scope.log.child({ intentId: record.id, accountId });
    if (!isOpen(record)) return outcomeOf(this.deps.store, await engine.dispatch(record, input, { log }));
    // Whoever works on an intent follows it too, and stops when something else ends it.
    const tracked = hub.hold(record);
    hub.follow(record);
    try {
      const signal = AbortSignal.any([scope.signal, tracked.interrupted.signal]);
      const dispatched = await engine.dispatch(record, input, { log, call: { signal, deadline: scope.deadline, log } });
      hub.offer(dispatched.record);
      return await outcomeOf(this.deps.store, dispatched);
    } finally {
      hub.release(tracked);
    }
  }

  /** The newest intent of a pending account id; a linked account without one has nothing pending. */
  private async intentOf(workspaceId: string, accountId: string): Promise<IntentRecord> {
    const intent = await this.deps.store.getIntentByAccountId(workspaceId, accountId);
    if (intent) return intent;
    const account = await this.deps.store.getAccount(workspaceId, accountId);
    if (account && account.status !== "DELETED") throw new AppError("no_pending_checkpoint", { metadata: { accountId } });
    throw notFound(accountId);
  }
}
