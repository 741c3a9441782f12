import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { sealingAad, type Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, IntentRecord, Store } from "../../store/store.ts";
import type { Variant, VariantCase } from "../connectors/connector.ts";
import { FINAL_AUTH_STATUSES, type AuthState, type CheckpointInfo, type InteractiveCall, type InteractiveConnector } from "../connectors/interactive.ts";
import { isInteractive, type ConnectorRegistry } from "../connectors/registry.ts";
import type { CallScope } from "./accounts-service.ts";
import { authInProgress } from "./auth-in-progress.ts";
import { IntentMonitor, type MonitorHost } from "./intent-monitor.ts";
import { closedIntentError, errorTypeOf, failureKindOf, interactiveStateOf, isOpen, type InteractiveIntentState } from "./intent-state.ts";
import { connectedAccount } from "./connected-account.ts";
import { newIntent } from "./new-intent.ts";

/** What ConnectAccount, SolveCheckpoint and ResendCheckpoint end in. */
export type ConnectOutcome =
  | { kind: "created"; account: AccountRecord }
  | { kind: "checkpoint"; accountId: string; checkpoint: CheckpointInfo };

export type WatchEventKind = "PENDING" | "CHECKPOINT" | "CHECKPOINT_REFRESHED" | "CONNECTED" | "FAILED" | "CANCELED" | "EXPIRED";

/** One message of a watch: what the pending account's intent became. */
export interface WatchEvent {
  kind: WatchEventKind;
  accountId: string;
  checkpoint?: CheckpointInfo;
  /** FAILED, CANCELED, EXPIRED: the "errors/..." type calls on the intent now answer. */
  errorType?: string;
  at: Date;
}

export interface CheckpointFlowDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  intentTtlMs: number;
  /** How often monitors re-read an intent from the store. */
  pollMs: number;
  now: () => Date;
  /** For work no request owns (following the gateway, expiring intents). */
  log: Logger;
}

/** Bound on a call no caller is waiting for (reconciling, canceling at the gateway). */
const BACKGROUND_CALL_MS = 3_000;
const GATEWAY_ANSWER_MARGIN_MS = 300;
const FOLLOW_BACKOFF_MIN_MS = 250;
const FOLLOW_BACKOFF_MAX_MS = 5_000;
/** When the gateway reports an outcome after our own expiry passed, the intent gets this long to take it. */
const LATE_OUTCOME_GRACE_MS = 30_000;

/**
 * The multi-step connect flow of interactive (gateway-backed) variants: ConnectAccount may end
 * at a checkpoint; SolveCheckpoint, ResendCheckpoint, CancelCheckpoint and WatchAccount carry
 * the intent on, from any replica.
 *
 * The store is the source of truth for our side (one open intent per identity, its checkpoint,
 * its expiry, its end); the gateway is the source of truth for the provider session. Every
 * state the gateway reports, however it arrives (a call's answer, its event stream, a
 * GetIntent after a replica died), goes through one idempotent function, apply(), guarded by
 * compare-and-set on the open intent. So two replicas applying the same event, or one
 * applying it twice, do no harm, and whichever replica hears of an outcome first records it.
 */
export class CheckpointFlow implements MonitorHost {
  private readonly deps: CheckpointFlowDeps;
  private readonly monitors = new Map<string, IntentMonitor>();
  private stopped = false;
  readonly pollMs: number;
  readonly log: Logger;

  constructor(deps: CheckpointFlowDeps) {
    this.deps = deps;
    this.pollMs = deps.pollMs;
    this.log = deps.log;
  }

  now(): Date {
    return this.deps.now();
  }

  // ---- ConnectAccount ------------------------------------------------------------------

  async begin(request: ConnectAccountRequest & { variant: Variant }, connector: InteractiveConnector, scope: CallScope): Promise<ConnectOutcome> {
    if (this.stopped) throw shuttingDown();
    const { sealer } = this.deps;
    const variant = request.variant;
    const base = newIntent(request, scope.workspaceId, this.now(), this.deps.intentTtlMs);
    const intentId = base.id;
    const state: InteractiveIntentState = { flow: "interactive", variant: variant.case, key: intentId, version: 0, seq: 0, checkpoint: null };
    const intent: IntentRecord = {
      ...base,
      state: { ...state },
      // Whichever replica creates the account needs the request: sealed under the intent's id
      // (key rotation re-seals intents under the same context), re-sealed under the account's.
      secrets: sealer.seal(toBinary(ConnectAccountRequestSchema, request), sealingAad(scope.workspaceId, intentId)),
    };
    await this.open(intent, request.restart, scope);
    const log = scope.log.child({ intentId, accountId: intent.accountId });
    const monitor = this.monitorFor(intent, { follow: false });

    let reported: AuthState;
    const closure = this.abortOnClose(monitor, scope.signal);
    try {
      const call = { signal: closure.signal, deadline: gatewayDeadline(scope.deadline, this.now()), log };
      reported = await connector.start({ intentId, workspaceId: scope.workspaceId, accountId: intent.accountId, request }, call);
      if (reported.status === "PENDING") reported = await this.firstOutcome(connector, intentId, call);
    } catch (error) {
      closure.dispose();
      throw await this.failStart(intent, connector, error, log);
    }
    closure.dispose();
    let applied: Applied;
    try {
      applied = await this.apply(intent, reported, log);
    } catch (error) {
      throw await this.failStart(intent, connector, error, log);
    }
    monitor.update(applied.intent);
    return this.answer(applied, { fresh: true });
  }

  /** Opens the intent; an open one for the same identity answers auth_in_progress, or is canceled on restart. */
  private async open(intent: IntentRecord, restart: boolean, scope: CallScope): Promise<void> {
    const { store } = this.deps;
    const first = await store.openIntent(intent, this.now());
    if ("opened" in first) return;
    const earlier = first.inProgress;
    if (!restart) throw authInProgress(earlier.expiresAt, this.now());
    const again = await store.openIntent(intent, this.now(), true);
    if ("inProgress" in again) throw authInProgress(again.inProgress.expiresAt, this.now());
    scope.log.info({ intentId: intent.id, canceledIntentId: earlier.id }, "restart canceled the earlier intent");
    this.touch(earlier.id);
    const earlierState = interactiveStateOf(earlier);
    if (earlierState) this.cancelRemote(earlierState, scope.log);
  }

  /** The intent could not get past its start: it ends FAILED (unless something else ended it), and the error is what the caller gets. */
  private async failStart(intent: IntentRecord, connector: InteractiveConnector, error: unknown, log: Logger): Promise<unknown> {
    const latest = await this.deps.store.getIntent(intent.workspaceId, intent.id).catch(() => undefined);
    if (latest && !isOpen(latest)) {
      // Canceled by a restart, expired: that is the answer, not the error it caused here.
      if (latest.status !== "FAILED" && latest.status !== "CONNECTED") return closedIntentError(latest);
    }
    const kind = error instanceof AppError ? error.kind : "unexpected_error";
    await this.deps.store.closeIntent(intent.id, "FAILED", this.now(), kind).catch((e: unknown) => log.warn({ err: e }, "could not close intent; it will expire"));
    this.touch(intent.id);
    // A gateway that timed out may still be working on it; one we cannot reach or that lost it has nothing to cancel.
    if (kind !== "no_channel" && kind !== "no_handler" && kind !== "no_client_session") this.cancelRemote({ variant: this.variantOf(intent), key: intent.id }, log, connector);
    return error;
  }

  // ---- SolveCheckpoint, ResendCheckpoint ------------------------------------------------

  solve(workspaceId: string, accountId: string, code: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.step(workspaceId, accountId, scope, (connector, key, call) => connector.solve(key, code, call));
  }

  resend(workspaceId: string, accountId: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.step(workspaceId, accountId, scope, (connector, key, call) => connector.resend(key, call));
  }

  private async step(
    workspaceId: string,
    accountId: string,
    scope: CallScope,
    run: (connector: InteractiveConnector, key: string, call: InteractiveCall) => Promise<AuthState>,
  ): Promise<ConnectOutcome> {
    const found = await this.findOpen(workspaceId, accountId, scope);
    if ("outcome" in found) return found.outcome;
    const { intent, state, connector } = found;
    const log = scope.log.child({ intentId: intent.id, accountId });
    // Whoever works on an intent follows it too: the replica that started it may be gone.
    const monitor = this.monitorFor(intent, { follow: true });
    const closure = this.abortOnClose(monitor, scope.signal);
    let reported: AuthState;
    try {
      const call = { signal: closure.signal, deadline: gatewayDeadline(scope.deadline, this.now()), log };
      reported = await run(connector, state.key, call);
      if (reported.status === "PENDING") reported = await this.firstOutcome(connector, state.key, call);
    } catch (error) {
      const latest = await this.deps.store.getIntent(workspaceId, intent.id).catch(() => undefined);
      if (latest && !isOpen(latest)) {
        // Ended meanwhile by what this very call ran into (a follower heard of the same lost session): that error is the answer.
        if (latest.status === "FAILED" && error instanceof AppError && latest.errorKind === error.kind) throw error;
        return this.answer({ intent: latest }, { fresh: false });
      }
      if (error instanceof AppError && (error.kind === "no_client_session" || error.kind === "no_handler")) {
        // The gateway lost the session (or no longer handles the variant): the intent cannot go on.
        monitor.update(await this.close(intent, "FAILED", error.kind));
      }
      throw error;
    } finally {
      closure.dispose();
    }
    const applied = await this.apply(intent, reported, log);
    monitor.update(applied.intent);
    return this.answer(applied, { fresh: true });
  }

  // ---- CancelCheckpoint ------------------------------------------------------------------

  async cancel(workspaceId: string, accountId: string, scope: CallScope): Promise<void> {
    const intent = await this.intentOf(workspaceId, accountId);
    if (intent.status === "CANCELED") return;
    if (!isOpen(intent)) throw closedIntentError(intent);
    const after = await this.close(intent, "CANCELED", "operation_canceled");
    if (after.status !== "CANCELED") throw closedIntentError(after);
    scope.log.info({ intentId: intent.id, accountId }, "intent canceled");
    const state = interactiveStateOf(intent);
    if (state) {
      // Awaited (briefly): the provider session should be gone when the caller hears back.
      await this.cancelRemote(state, scope.log);
    }
  }

  // ---- WatchAccount ------------------------------------------------------------------------

  /** The intent's current state, then each change, until it ends (or the caller goes, or the service stops). */
  async *watch(workspaceId: string, accountId: string, scope: CallScope): AsyncGenerator<WatchEvent> {
    const { store } = this.deps;
    const intent = await store.getIntentByAccountId(workspaceId, accountId);
    if (!intent) {
      const account = await store.getAccount(workspaceId, accountId);
      if (!account || account.status === "DELETED") throw notFound(accountId);
      yield { kind: "CONNECTED", accountId, at: account.createdAt };
      return;
    }
    if (!isOpen(intent)) {
      yield eventOf(intent, undefined)!.event;
      return;
    }
    const monitor = this.monitorFor(intent, { follow: true });
    let dirty = true;
    let wake: (() => void) | undefined;
    const off = monitor.onChange(() => {
      dirty = true;
      wake?.();
    });
    try {
      let seen: Seen | undefined;
      for (;;) {
        dirty = false;
        const latest = monitor.latest;
        const next = eventOf(latest, seen);
        if (next) {
          seen = next.seen;
          yield next.event;
          if (!isOpen(latest)) return;
        }
        if (monitor.finished && isOpen(monitor.latest)) throw shuttingDown();
        if (!dirty) await this.waitFor((resolve) => (wake = resolve), scope.signal, monitor.signal);
        wake = undefined;
      }
    } finally {
      off();
    }
  }

  private waitFor(register: (resolve: () => void) => void, signal: AbortSignal, stopped: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        signal.removeEventListener("abort", onAbort);
        stopped.removeEventListener("abort", onStop);
      };
      const onAbort = () => {
        cleanup();
        reject(signal.reason);
      };
      // The monitor ended: either the intent closed (its listener fired first) or the service is stopping.
      const onStop = () => {
        cleanup();
        resolve();
      };
      if (signal.aborted) return onAbort();
      if (stopped.aborted) return onStop();
      signal.addEventListener("abort", onAbort, { once: true });
      stopped.addEventListener("abort", onStop, { once: true });
      register(() => {
        cleanup();
        resolve();
      });
    });
  }

  // ---- GetAccount of a pending id ------------------------------------------------------------

  /**
   * A GetAccount on an id that has no account yet: if its intent is open, ask the gateway how
   * it stands and record what it says (the replica that followed it may be gone). Returns the
   * account if that created it.
   */
  async reconcile(workspaceId: string, accountId: string, log: Logger): Promise<AccountRecord | undefined> {
    const intent = await this.deps.store.getIntentByAccountId(workspaceId, accountId);
    if (!intent || !isOpen(intent)) return undefined;
    const state = interactiveStateOf(intent);
    if (!state) return undefined;
    try {
      const connector = this.interactiveConnector(state.variant);
      const reported = await connector.get(state.key, backgroundCall(log));
      const applied = await this.apply(intent, reported, log);
      this.monitors.get(intent.id)?.update(applied.intent);
      if (applied.account) return applied.account;
      // Created meanwhile by another replica.
      return applied.intent.status === "CONNECTED" ? await this.deps.store.getAccount(workspaceId, accountId) : undefined;
    } catch {
      // Not reachable now: the intent stays as it is.
      return undefined;
    }
  }

  /** Shutdown: monitors stop polling and following (the gateway keeps the state; the next reconcile picks it up); watches end with service_unavailable. */
  stop(): void {
    this.stopped = true;
    for (const monitor of [...this.monitors.values()]) monitor.stop();
  }

  // ---- the one place a gateway state meets the store ------------------------------------------

  /**
   * Applies what the gateway reported to the intent, idempotently: a newer checkpoint replaces
   * the stored one (and sets the expiry), CONNECTED creates the account (deduplicated, sealed
   * under the account id), FAILED / CANCELED / EXPIRED end the intent. An intent already
   * ended is left alone. Returns the intent as it is afterwards.
   */
  private async apply(known: IntentRecord, reported: AuthState, log: Logger): Promise<Applied> {
    const { store } = this.deps;
    const current = await store.getIntent(known.workspaceId, known.id);
    if (!current) throw new AppError("unexpected_error", { detail: "intent vanished" });
    if (!isOpen(current)) return { intent: current };
    const state = interactiveStateOf(current);
    if (!state) throw new AppError("unexpected_error", { detail: "not an interactive intent" });
    if (reported.version < state.version) return { intent: current };
    switch (reported.status) {
      case "PENDING":
        return { intent: current };
      case "CHECKPOINT": {
        const checkpoint = reported.checkpoint!;
        const changed = !sameCheckpoint(checkpoint, state.checkpoint);
        if (!changed && current.status === "CHECKPOINT") return { intent: current };
        const now = this.now();
        // The intent lives as long as its checkpoint (a rotating QR code keeps pushing it on); a
        // gateway that gives no expiry gets INTENT_TTL_MS.
        const expiresAt = checkpoint.expiresAt ? new Date(checkpoint.expiresAt) : new Date(now.getTime() + this.deps.intentTtlMs);
        const next: InteractiveIntentState = { ...state, version: reported.version, seq: state.seq + (changed ? 1 : 0), checkpoint };
        const updated = await store.updateOpenIntent(current.id, { status: "CHECKPOINT", state: { ...next }, expiresAt, updatedAt: now });
        this.touch(current.id);
        return { intent: updated ?? (await store.getIntent(current.workspaceId, current.id))! };
      }
      case "CONNECTED":
        return this.createAccount(current, state, reported, log);
      case "FAILED":
        return { intent: await this.close(current, "FAILED", reported.errorKind ?? "provider_error") };
      case "CANCELED":
        return { intent: await this.close(current, "CANCELED", "operation_canceled") };
      case "EXPIRED":
        return { intent: await this.close(current, "EXPIRED", "intent_expired") };
    }
  }

  private async createAccount(intent: IntentRecord, state: InteractiveIntentState, reported: AuthState, log: Logger): Promise<Applied> {
    const { store, sealer } = this.deps;
    if (!intent.secrets) throw new AppError("unexpected_error", { detail: "open intent without its sealed request" });
    const request = fromBinary(ConnectAccountRequestSchema, sealer.open(intent.secrets, sealingAad(intent.workspaceId, intent.id))) as ConnectAccountRequest & { variant: Variant };
    let now = this.now();
    // The provider's "connected" is a fact: it beats our own expiry as long as nobody ended the intent.
    if (intent.expiresAt.getTime() <= now.getTime()) await store.updateOpenIntent(intent.id, { expiresAt: new Date(now.getTime() + LATE_OUTCOME_GRACE_MS) });
    now = this.now();
    const record = connectedAccount(intent, request, { identity: reported.identity!, details: reported.details }, sealer, now);
    const inserted = await store.insertAccount(record, intent.id, now);
    if ("inserted" in inserted) {
      this.touch(intent.id);
      log.info({ intentId: intent.id, accountId: intent.accountId }, "account connected");
      const closed = await store.getIntent(intent.workspaceId, intent.id);
      return { intent: closed!, account: inserted.inserted };
    }
    if ("duplicateOf" in inserted) {
      // Kept with the intent, so whichever call reports the failure can name the account that exists.
      await store.updateOpenIntent(intent.id, { state: { ...state, duplicateOf: inserted.duplicateOf } });
      const closed = await this.close(intent, "FAILED", "already_exists");
      // The gateway logged a second session into an account we already hold: let it go.
      this.cancelRemote(state, log);
      return { intent: closed, duplicateOf: inserted.duplicateOf };
    }
    return { intent: inserted.intentGone ?? (await store.getIntent(intent.workspaceId, intent.id))! };
  }

  /** Ends an open intent (compare-and-set: no-op if it already ended) and returns it as it is now. */
  private async close(intent: IntentRecord, status: "FAILED" | "CANCELED" | "EXPIRED", errorKind: string): Promise<IntentRecord> {
    await this.deps.store.closeIntent(intent.id, status, this.now(), errorKind);
    this.touch(intent.id);
    return (await this.deps.store.getIntent(intent.workspaceId, intent.id))!;
  }

  /** What a call answers once the intent is as `applied` says. `fresh`: this very call led there. */
  private async answer(applied: Applied, { fresh }: { fresh: boolean }): Promise<ConnectOutcome> {
    const { intent } = applied;
    switch (intent.status) {
      case "CHECKPOINT": {
        const state = interactiveStateOf(intent)!;
        // This replica follows the gateway from now on (a QR scanned while nobody watches still
        // creates the account). While stopping it leaves that to the next replica that asks.
        if (!this.stopped) this.monitorFor(intent, { follow: true });
        return { kind: "checkpoint", accountId: intent.accountId, checkpoint: state.checkpoint! };
      }
      case "CONNECTED": {
        const account = applied.account ?? (await this.deps.store.getAccount(intent.workspaceId, intent.accountId));
        if (!account || account.status === "DELETED") throw notFound(intent.accountId);
        return { kind: "created", account };
      }
      case "FAILED": {
        const duplicateOf = applied.duplicateOf ?? (typeof intent.state?.duplicateOf === "string" ? intent.state.duplicateOf : undefined);
        if (fresh && duplicateOf) throw new AppError("already_exists", { metadata: { accountId: duplicateOf } });
        if (fresh) throw new AppError(failureKindOf(intent), { metadata: { accountId: intent.accountId } });
        throw closedIntentError(intent);
      }
      case "OPEN":
        throw new AppError("no_pending_checkpoint", { metadata: { accountId: intent.accountId } });
      default:
        throw closedIntentError(intent);
    }
  }

  // ---- expiry, following, reconciling ---------------------------------------------------------

  async read(intent: IntentRecord): Promise<IntentRecord | undefined> {
    return this.deps.store.getIntent(intent.workspaceId, intent.id);
  }

  /**
   * Whoever notices an open intent past its expiry ends it. An interactive intent asks the
   * gateway first: its follower may simply have missed a refreshed QR code, or the outcome.
   */
  async expireIfDue(intent: IntentRecord, log: Logger): Promise<IntentRecord> {
    const state = interactiveStateOf(intent);
    if (state) {
      try {
        const connector = this.interactiveConnector(state.variant);
        const applied = await this.apply(intent, await connector.get(state.key, backgroundCall(log)), log);
        if (!isOpen(applied.intent) || applied.intent.expiresAt.getTime() > this.now().getTime()) return applied.intent;
      } catch {
        // The gateway cannot tell us more: the intent is due.
      }
    }
    const after = await this.close(intent, "EXPIRED", "intent_expired");
    if (after.status === "EXPIRED" && state) {
      log.info({ intentId: intent.id }, "intent expired");
      this.cancelRemote(state, log);
    }
    return after;
  }

  /** The gateway's event stream, applied to the store, until the intent ends; reconnects with backoff. */
  async follow(monitor: IntentMonitor, signal: AbortSignal): Promise<void> {
    const state = interactiveStateOf(monitor.latest)!;
    const log = monitor.log;
    let connector: InteractiveConnector;
    try {
      connector = this.interactiveConnector(state.variant);
    } catch {
      return;
    }
    let backoff = FOLLOW_BACKOFF_MIN_MS;
    while (!signal.aborted) {
      try {
        for await (const event of connector.events(state.key, signal, log)) {
          backoff = FOLLOW_BACKOFF_MIN_MS;
          const applied = await this.apply(monitor.latest, event.state, log);
          monitor.update(applied.intent);
          if (!isOpen(applied.intent) || FINAL_AUTH_STATUSES.has(event.state.status)) break;
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof AppError && (error.kind === "no_client_session" || error.kind === "no_handler")) {
          if (isOpen(monitor.latest)) monitor.update(await this.close(monitor.latest, "FAILED", error.kind));
          return;
        }
        log.debug({ errorType: error instanceof AppError ? error.entry.type : undefined }, "gateway stream interrupted; following again");
      }
      if (!isOpen(monitor.latest)) return;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, FOLLOW_BACKOFF_MAX_MS);
    }
  }

  forget(monitor: IntentMonitor): void {
    if (this.monitors.get(monitor.id) === monitor) this.monitors.delete(monitor.id);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private monitorFor(intent: IntentRecord, { follow }: { follow: boolean }): IntentMonitor {
    if (this.stopped) throw shuttingDown();
    let monitor = this.monitors.get(intent.id);
    if (!monitor) {
      monitor = new IntentMonitor(this, intent);
      this.monitors.set(intent.id, monitor);
      monitor.start();
    } else {
      monitor.update(intent);
    }
    if (follow) monitor.followGateway();
    return monitor;
  }

  /** Something in this process changed the intent: its monitor re-reads at once. */
  private touch(intentId: string): void {
    this.monitors.get(intentId)?.wake();
  }

  /** A signal that aborts with the caller's reason, or with the intent's own end (canceled by a restart, expired). */
  private abortOnClose(monitor: IntentMonitor, parent: AbortSignal): { signal: AbortSignal; dispose(): void } {
    const controller = new AbortController();
    const onParent = () => controller.abort(parent.reason);
    if (parent.aborted) onParent();
    else parent.addEventListener("abort", onParent, { once: true });
    const off = monitor.onChange((intent) => {
      if (!isOpen(intent) && intent.status !== "CONNECTED" && intent.status !== "FAILED") controller.abort(closedIntentError(intent));
    });
    return {
      signal: controller.signal,
      dispose() {
        off();
        parent.removeEventListener("abort", onParent);
      },
    };
  }

  /** After a PENDING answer: the gateway's events until the first real outcome, within the call's deadline. */
  private async firstOutcome(connector: InteractiveConnector, key: string, call: InteractiveCall): Promise<AuthState> {
    while (!call.signal.aborted) {
      for await (const event of connector.events(key, call.signal, call.log)) {
        if (event.state.status !== "PENDING") return event.state;
      }
      await sleep(this.pollMs, call.signal);
    }
    throw call.signal.reason;
  }

  private async findOpen(
    workspaceId: string,
    accountId: string,
    scope: CallScope,
  ): Promise<{ outcome: ConnectOutcome } | { intent: IntentRecord; state: InteractiveIntentState; connector: InteractiveConnector }> {
    let intent = await this.intentOf(workspaceId, accountId);
    if (!isOpen(intent)) return { outcome: await this.answer({ intent }, { fresh: false }) };
    const state = interactiveStateOf(intent);
    if (!state) throw new AppError("no_pending_checkpoint", { metadata: { accountId } });
    const connector = this.interactiveConnector(state.variant);
    if (intent.expiresAt.getTime() <= this.now().getTime()) {
      intent = await this.expireIfDue(intent, scope.log);
      if (!isOpen(intent)) return { outcome: await this.answer({ intent }, { fresh: false }) };
    }
    return { intent, state, connector };
  }

  /** The newest intent of a pending account id; a linked account without one has nothing pending. */
  private async intentOf(workspaceId: string, accountId: string): Promise<IntentRecord> {
    const intent = await this.deps.store.getIntentByAccountId(workspaceId, accountId);
    if (intent) return intent;
    const account = await this.deps.store.getAccount(workspaceId, accountId);
    if (account && account.status !== "DELETED") throw new AppError("no_pending_checkpoint", { metadata: { accountId } });
    throw notFound(accountId);
  }

  private interactiveConnector(variant: VariantCase): InteractiveConnector {
    const connector = this.deps.connectors.connectorFor(variant);
    if (!isInteractive(connector)) throw new AppError("feature_not_implemented", { detail: `The ${variant} variant has no checkpoints here.`, metadata: { variant } });
    return connector;
  }

  private variantOf(intent: IntentRecord): VariantCase {
    return interactiveStateOf(intent)!.variant;
  }

  /** Best effort: tells the gateway to drop an authentication we no longer want. Never throws. */
  private cancelRemote(state: Pick<InteractiveIntentState, "variant" | "key">, log: Logger, connector?: InteractiveConnector): Promise<void> {
    return (async () => {
      const c = connector ?? this.interactiveConnector(state.variant);
      await c.cancel(state.key, backgroundCall(log));
    })().catch((err: unknown) => log.debug({ intentId: state.key, errorType: err instanceof AppError ? err.entry.type : undefined }, "gateway cancel failed (best effort)"));
  }
}

interface Applied {
  intent: IntentRecord;
  /** Set when this apply created the account. */
  account?: AccountRecord;
  /** Set when the identity is already linked in the workspace (the intent ended FAILED already_exists). */
  duplicateOf?: string;
}

/** What a watcher last reported. */
interface Seen {
  status: IntentRecord["status"];
  seq: number;
  type: string | undefined;
}

/** The event a watcher owes for `intent`, given what it reported last (none if nothing it can see changed). */
export function eventOf(intent: IntentRecord, seen: Seen | undefined): { event: WatchEvent; seen: Seen } | undefined {
  const state = interactiveStateOf(intent);
  const seq = state?.seq ?? 0;
  const checkpoint = state?.checkpoint ?? undefined;
  const now: Seen = { status: intent.status, seq, type: checkpoint?.type };
  const base = { accountId: intent.accountId, at: intent.closedAt ?? intent.updatedAt };
  switch (intent.status) {
    case "OPEN":
      return seen ? undefined : { event: { ...base, kind: "PENDING" }, seen: now };
    case "CHECKPOINT": {
      if (!checkpoint) return seen ? undefined : { event: { ...base, kind: "PENDING" }, seen: now };
      if (seen?.status === "CHECKPOINT" && seen.seq >= seq) return undefined;
      const kind = seen?.status === "CHECKPOINT" && seen.type === checkpoint.type ? "CHECKPOINT_REFRESHED" : "CHECKPOINT";
      return { event: { ...base, kind, checkpoint }, seen: now };
    }
    case "CONNECTED":
      return { event: { ...base, kind: "CONNECTED" }, seen: now };
    case "FAILED":
    case "CANCELED":
    case "EXPIRED":
      return { event: { ...base, kind: intent.status, errorType: errorTypeOf(intent)! }, seen: now };
  }
}

/** Field by field: the stored copy went through the database's JSON, which may reorder keys. */
function sameCheckpoint(a: CheckpointInfo, b: CheckpointInfo | null): boolean {
  if (!b) return false;
  const fields = ["type", "qrCode", "pairingCode", "captchaData", "codeSentTo", "expiresAt"] as const;
  return fields.every((f) => (a[f] ?? "") === (b[f] ?? ""));
}

function notFound(accountId: string): AppError {
  return new AppError("not_found", { metadata: { accountId } });
}

function shuttingDown(): AppError {
  return new AppError("service_unavailable", { detail: "This replica is shutting down: call again (another replica carries the intent on)." });
}

/**
 * The gateway must answer a little before our caller's deadline: a provider that does not
 * answer becomes our request_timeout (closing the intent, telling the gateway to cancel) while
 * the caller still listens, rather than its own bare DEADLINE_EXCEEDED.
 */
function gatewayDeadline(deadline: Date, now: Date): Date {
  const remaining = deadline.getTime() - now.getTime();
  return new Date(deadline.getTime() - Math.min(GATEWAY_ANSWER_MARGIN_MS, Math.max(0, remaining) * 0.1));
}

/** A call no caller waits on: bounded by its own short deadline. */
function backgroundCall(log: Logger): InteractiveCall {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new AppError("request_timeout")), BACKGROUND_CALL_MS);
  timer.unref();
  return { signal: controller.signal, deadline: new Date(Date.now() + BACKGROUND_CALL_MS), log };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
