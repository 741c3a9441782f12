import { pino, type Logger } from "pino";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, AccountStatus, AccountSummary, Store } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import type { ConnectorRegistry } from "../connectors/registry.ts";
import type { CallScope } from "./call-scope.ts";
import { ConnectFlow } from "./connect-flow.ts";
import type { WatchEvent } from "./engine/core/watch-events.ts";
import { IntentEngine } from "./engine/shell/engine.ts";
import { IntentHub } from "./engine/shell/hub.ts";
import { startSweeper } from "./engine/shell/sweeper.ts";
import { IntentCommands } from "./intent-commands.ts";
import { notFound, shuttingDown, type ConnectOutcome } from "./outcomes.ts";
import { reconnectRequest } from "./reconnect-request.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 250;
/** A "connected" reported after our own expiry (nobody ended the intent yet) gets this long to be recorded. */
const LATE_OUTCOME_GRACE_MS = 30_000;

export interface AccountsServiceDeps {
  store: Store;
  /** The store for work no call asked for (following intents, the sweep): untraced. Default: `store`. */
  backgroundStore?: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  /** How long an intent blocks its identity if its process dies without closing it. */
  intentTtlMs: number;
  now?: () => Date;
  /** Logger for work no request owns (following provider sessions, sweeps); silent by default. */
  log?: Logger;
  /** The safety-net re-read of the intents this process tracks (changes arrive by notification; default 15 s). */
  intentPollMs?: number;
  /** How often this replica sweeps abandoned intents (default 30 s); 0: never. */
  intentSweepMs?: number;
  /** Open intents a workspace may have at once; undefined: no limit. */
  maxPendingIntents?: number;
}

export interface AccountPage {
  accounts: AccountSummary[];
  nextAfterId: string | undefined;
}

/**
 * The account lifecycle: connect and reconnect (through the intent engine), checkpoints, get, list, delete.
 * Knows nothing of transports; failures are AppErrors.
 */
export class AccountsService {
  private readonly store: Store;
  private readonly sealer: Sealer;
  private readonly now: () => Date;
  private readonly hub: IntentHub;
  private readonly flow: ConnectFlow;
  private readonly commands: IntentCommands;
  private readonly sweeper: { stop(): void } | undefined;
  private stopped = false;

  constructor(deps: AccountsServiceDeps) {
    const now = deps.now ?? (() => new Date());
    const log = deps.log ?? pino({ level: "silent" });
    this.store = deps.store;
    this.sealer = deps.sealer;
    this.now = now;
    const engineOn = (store: Store) =>
      new IntentEngine({ store, sealer: deps.sealer, connectors: deps.connectors, rules: { ttlMs: deps.intentTtlMs, lateOutcomeGraceMs: LATE_OUTCOME_GRACE_MS }, now, log });
    const engine = engineOn(deps.store);
    // The engine is stateless: the background one differs only in the store it writes through.
    const background = deps.backgroundStore ? engineOn(deps.backgroundStore) : engine;
    this.hub = new IntentHub({ store: background.deps.store, engine: background, pollMs: deps.intentPollMs ?? 15_000, now, log });
    this.flow = new ConnectFlow({ store: deps.store, sealer: deps.sealer, connectors: deps.connectors, engine, hub: this.hub, intentTtlMs: deps.intentTtlMs, maxPendingIntents: deps.maxPendingIntents, now });
    this.commands = new IntentCommands({ store: deps.store, engine, hub: this.hub });
    const sweepMs = deps.intentSweepMs ?? 30_000;
    // Swept only well after the expiry: the replicas tracking an intent expire it themselves, asking the provider side first.
    this.sweeper = sweepMs > 0 ? startSweeper({ store: background.deps.store, engine: background, everyMs: sweepMs, graceMs: Math.min(deps.intentTtlMs, 60_000), now, log }) : undefined;
  }

  /** ConnectAccount: the account, or (for variants whose login runs in a provider session) a checkpoint the person must get through first. */
  begin(request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<ConnectOutcome> {
    if (this.stopped) throw shuttingDown();
    return this.flow.begin(request, scope);
  }

  /**
   * ReconnectAccount: new credentials for the live account `accountId`, in its variant, through
   * the same engine as begin (checkpoints included; the account is RECONNECTING meanwhile).
   * The outcome's account keeps its id, create time and the options not given anew.
   */
  async reconnect(accountId: string, request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<ConnectOutcome> {
    if (this.stopped) throw shuttingDown();
    const target = await reconnectRequest(this.store, this.sealer, scope.workspaceId, accountId, request);
    return this.flow.reconnect(target.account, target.request, scope);
  }

  /** `log` makes the call's logger, asked for only if the account is pending (most reads log nothing). */
  async get(workspaceId: string, accountId: string, log?: () => Logger): Promise<AccountSummary> {
    const account = await this.store.getAccountSummary(workspaceId, accountId);
    if (account) return account;
    // A pending account id: the provider side may have finished it while no replica was listening.
    const reconciled = log ? await this.commands.reconcile(workspaceId, accountId, log()) : undefined;
    if (!reconciled) throw notFound(accountId);
    return reconciled;
  }

  /** SolveCheckpoint: the account, a further checkpoint, or an error (a wrong code: invalid_checkpoint_code). */
  solveCheckpoint(workspaceId: string, accountId: string, code: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.commands.solve(workspaceId, accountId, code, scope);
  }

  /** ResendCheckpoint: the renewed checkpoint (or the account, if it got linked meanwhile). */
  resendCheckpoint(workspaceId: string, accountId: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.commands.resend(workspaceId, accountId, scope);
  }

  /** CancelCheckpoint: the pending account's intent ends CANCELED (idempotent). */
  cancelCheckpoint(workspaceId: string, accountId: string, scope: CallScope): Promise<void> {
    return this.commands.cancel(workspaceId, accountId, scope);
  }

  /** WatchAccount: the pending account's state now, then every change, until its intent ends. */
  watch(workspaceId: string, accountId: string, scope: CallScope): AsyncIterable<WatchEvent> {
    return this.commands.watch(workspaceId, accountId, scope);
  }

  /** How many intents this process tracks now (watched, followed or waited on). */
  get trackedIntents(): number {
    return this.hub.size;
  }

  /** Shutdown: stop tracking and sweeping (the provider side and the store keep their state); watches end with service_unavailable. */
  stop(): void {
    this.stopped = true;
    this.sweeper?.stop();
    this.hub.stop();
  }

  async list(workspaceId: string, query: { pageSize: number; afterId?: string; provider?: string; status?: AccountStatus }): Promise<AccountPage> {
    if (query.pageSize > MAX_PAGE_SIZE) {
      throw new AppError("limit_too_high", { detail: `page_size is at most ${MAX_PAGE_SIZE}.`, metadata: { maxPageSize: String(MAX_PAGE_SIZE) } });
    }
    const limit = query.pageSize || DEFAULT_PAGE_SIZE;
    // One extra row says whether a next page exists without a second query.
    const rows = await this.store.listAccounts({ workspaceId, provider: query.provider, status: query.status, afterId: query.afterId, limit: limit + 1 });
    const accounts = rows.slice(0, limit);
    return { accounts, nextAfterId: rows.length > limit ? accounts.at(-1)?.id : undefined };
  }

  /** Idempotent: deleting an account that is already deleted answers it again. */
  async delete(workspaceId: string, accountId: string): Promise<AccountRecord> {
    await this.store.deleteAccount(workspaceId, accountId, this.now());
    const account = await this.store.getAccount(workspaceId, accountId);
    if (!account) throw notFound(accountId);
    return account;
  }
}
