import { pino, type Logger } from "pino";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, AccountStatus, AccountSummary, IntentRecord, Store } from "../../store/store.ts";
import type { ConnectorResult, Variant } from "../connectors/connector.ts";
import { isInteractive, type ConnectorRegistry } from "../connectors/registry.ts";
import { authInProgress } from "./auth-in-progress.ts";
import { CheckpointFlow, type ConnectOutcome, type WatchEvent } from "./checkpoints.ts";
import { connectedAccount } from "./connected-account.ts";
import { newIntent } from "./new-intent.ts";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 250;

export interface AccountsServiceDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  /** How long an intent blocks its identity if its process dies without closing it. */
  intentTtlMs: number;
  now?: () => Date;
  /** Logger for work no request owns (following provider gateways); silent by default. */
  log?: Logger;
  /** How often a pending intent is re-read from the store while someone waits on it (default 300 ms). */
  intentPollMs?: number;
}

/** What a domain call needs from the RPC around it. */
export interface CallScope {
  workspaceId: string;
  /** Aborted with an AppError (request_timeout, request_canceled) as its reason. */
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}

export interface AccountPage {
  accounts: AccountSummary[];
  nextAfterId: string | undefined;
}

/**
 * The account lifecycle: connect (intent → connector → dedupe → sealed store), get, list, delete.
 * Knows nothing of transports; failures are AppErrors.
 */
export class AccountsService {
  private readonly deps: Required<Omit<AccountsServiceDeps, "log" | "intentPollMs">>;
  private readonly checkpoints: CheckpointFlow;

  constructor(deps: AccountsServiceDeps) {
    this.deps = { now: () => new Date(), ...deps };
    this.checkpoints = new CheckpointFlow({
      store: deps.store,
      sealer: deps.sealer,
      connectors: deps.connectors,
      intentTtlMs: deps.intentTtlMs,
      pollMs: deps.intentPollMs ?? 300,
      now: this.deps.now,
      log: deps.log ?? pino({ level: "silent" }),
    });
  }

  /**
   * ConnectAccount: the account, or (for variants whose provider session runs behind a
   * gateway) a checkpoint the person must get through first.
   */
  async begin(request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<ConnectOutcome> {
    const connector = this.deps.connectors.connectorFor(request.variant.case);
    if (isInteractive(connector)) return this.checkpoints.begin(request, connector, scope);
    return { kind: "created", account: await this.connect(request, scope) };
  }

  /** The one-shot connect; a variant that may stop at a checkpoint answers action_required if it does. */
  async connect(request: ConnectAccountRequest & { variant: Variant }, scope: CallScope): Promise<AccountRecord> {
    const { store, connectors, now } = this.deps;
    const variant = request.variant;
    const connector = connectors.connectorFor(variant.case);
    if (isInteractive(connector)) {
      const outcome = await this.checkpoints.begin(request, connector, scope);
      if (outcome.kind === "created") return outcome.account;
      throw new AppError("action_required", { detail: "The provider asks for a checkpoint.", metadata: { accountId: outcome.accountId } });
    }
    const openedAt = now();
    const intent = newIntent(request, scope.workspaceId, openedAt, this.deps.intentTtlMs);
    const opened = await store.openIntent(intent, openedAt, request.restart);
    if ("inProgress" in opened) {
      throw authInProgress(opened.inProgress.expiresAt, openedAt);
    }
    try {
      scope.signal.throwIfAborted();
      const input = {
        variant: variant.value,
        shared: { country: request.country, ip: request.ip },
        signal: scope.signal,
        deadline: scope.deadline,
        // Read only if the connector logs: a call's logger is made on first use.
        get log() {
          return scope.log;
        },
      };
      const result = await abortable(connector.connect(input), scope.signal);
      scope.signal.throwIfAborted();
      return await this.persist(request, intent, result);
    } catch (error) {
      const kind = error instanceof AppError ? error.kind : "unexpected_error";
      await store.closeIntent(intent.id, "FAILED", now(), kind).catch((e: unknown) => scope.log.warn({ err: e, intentId: intent.id }, "could not close intent; it will expire"));
      throw error;
    }
  }

  private async persist(request: ConnectAccountRequest & { variant: Variant }, intent: IntentRecord, result: ConnectorResult): Promise<AccountRecord> {
    const { store, sealer, now } = this.deps;
    const at = now();
    const record = connectedAccount(intent, request, result, sealer, at);
    const inserted = await store.insertAccount(record, intent.id, at);
    if ("duplicateOf" in inserted) {
      throw new AppError("already_exists", { metadata: { accountId: inserted.duplicateOf } });
    }
    if ("intentGone" in inserted) {
      throw inserted.intentGone?.status === "CANCELED"
        ? new AppError("operation_canceled")
        : new AppError("authentication_intent_error", { detail: "The intent expired before the provider answered." });
    }
    return inserted.inserted;
  }

  /** `log` makes the call's logger, asked for only if the account is pending (most reads log nothing). */
  async get(workspaceId: string, accountId: string, log?: () => Logger): Promise<AccountRecord> {
    const account = await this.deps.store.getAccount(workspaceId, accountId);
    if (account) return account;
    // A pending account id: the gateway may have finished it while no replica was listening.
    const reconciled = log ? await this.checkpoints.reconcile(workspaceId, accountId, log()) : undefined;
    if (!reconciled) throw notFound(accountId);
    return reconciled;
  }

  /** SolveCheckpoint: the account, a further checkpoint, or an error (a wrong code: invalid_checkpoint_code). */
  solveCheckpoint(workspaceId: string, accountId: string, code: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.checkpoints.solve(workspaceId, accountId, code, scope);
  }

  /** ResendCheckpoint: the renewed checkpoint (or the account, if it got linked meanwhile). */
  resendCheckpoint(workspaceId: string, accountId: string, scope: CallScope): Promise<ConnectOutcome> {
    return this.checkpoints.resend(workspaceId, accountId, scope);
  }

  /** CancelCheckpoint: the pending account's intent ends CANCELED (idempotent). */
  cancelCheckpoint(workspaceId: string, accountId: string, scope: CallScope): Promise<void> {
    return this.checkpoints.cancel(workspaceId, accountId, scope);
  }

  /** WatchAccount: the pending account's state now, then every change, until its intent ends. */
  watch(workspaceId: string, accountId: string, scope: CallScope): AsyncIterable<WatchEvent> {
    return this.checkpoints.watch(workspaceId, accountId, scope);
  }

  /** Shutdown: stop following intents (the gateway and the store keep their state); watches end with service_unavailable. */
  stop(): void {
    this.checkpoints.stop();
  }

  async list(workspaceId: string, query: { pageSize: number; afterId?: string; provider?: string; status?: AccountStatus }): Promise<AccountPage> {
    if (query.pageSize > MAX_PAGE_SIZE) {
      throw new AppError("limit_too_high", { detail: `page_size is at most ${MAX_PAGE_SIZE}.`, metadata: { maxPageSize: String(MAX_PAGE_SIZE) } });
    }
    const limit = query.pageSize || DEFAULT_PAGE_SIZE;
    // One extra row says whether a next page exists without a second query.
    const rows = await this.deps.store.listAccounts({ workspaceId, provider: query.provider, status: query.status, afterId: query.afterId, limit: limit + 1 });
    const accounts = rows.slice(0, limit);
    return { accounts, nextAfterId: rows.length > limit ? accounts.at(-1)?.id : undefined };
  }

  /** Idempotent: deleting an account that is already deleted answers it again. */
  async delete(workspaceId: string, accountId: string): Promise<AccountRecord> {
    await this.deps.store.deleteAccount(workspaceId, accountId, this.deps.now());
    const account = await this.deps.store.getAccount(workspaceId, accountId);
    if (!account) throw notFound(accountId);
    return account;
  }
}

/** Another workspace's account and a missing one answer alike. */
function notFound(accountId: string): AppError {
  return new AppError("not_found", { metadata: { accountId } });
}

/** Stops waiting on work that ignores the signal; the work's own result is dropped. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
