import type { Logger } from "pino";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError, isAppError } from "../../errors/app-error.ts";
import { catalogue } from "../../errors/catalogue.ts";
import type { AccountRecord, RefreshWrite, SealedBlob, Store } from "../../store/store.ts";
import type { HttpClient } from "../connectors/oauth/http-client.ts";
import { refreshAccessToken, type TokenSource } from "../connectors/oauth/refresh.ts";
import { innerBudgetMs } from "../deadline.ts";
import { untilAborted } from "../until-aborted.ts";
import { Slots } from "./slots.ts";
import { openCredentials, sealRefreshed, type Credentials, type OAuthCredentials, type OAuthProvider } from "./account-credentials.ts";

export type LiveAccount = AccountRecord & { secrets: SealedBlob };

/** Which account a refresh is for: it reads the rest itself, under the account's lock. */
type AccountKey = Pick<AccountRecord, "workspaceId" | "id">;

/**
 * Refreshes of different accounts one replica runs at once. On PostgreSQL each holds a pooled
 * connection (10 a replica) for as long as the provider takes to answer: a burst of due tokens
 * must leave the pool to every other call.
 */
const MAX_CONCURRENT_REFRESHES = 4;

/** An OAuth account's credentials with an access token good for at least the margin. */
export interface FreshToken {
  account: LiveAccount;
  credentials: Credentials & OAuthCredentials;
  /** What the token endpoint granted the token (by this refresh, or as stored with it); empty when it never said. */
  scopes: string[];
  /** Whether this process refreshed the token for it (false: another replica had, once the lock was ours). */
  refreshed: boolean;
}

export interface TokenRefresherDeps {
  store: Store;
  sealer: Sealer;
  http: HttpClient;
  sources: Record<OAuthProvider, TokenSource>;
  /** A token that expires within this is refreshed before it is handed out. */
  marginMs: number;
  /** Longest wait for the account's lock (another replica's refresh), further capped by the call's deadline. */
  lockTimeoutMs: number;
  log: Logger;
  now: () => Date;
}

/** What the locked part decides: fresh credentials, or the provider's refusal (committed as a status change first). */
type Outcome = { fresh: FreshToken } | { refused: AppError };

interface Call {
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}

/**
 * One refresh at a time per account. In this process, calls for an account whose token is due
 * share one refresh (a flight keyed by account); across replicas, the flight holds the
 * account's row lock in the store (PostgreSQL) and re-reads the row under it, so a replica that
 * waited finds the token the other one stored and refreshes nothing.
 */
export class TokenRefresher {
  private readonly deps: TokenRefresherDeps;
  private readonly flights = new Map<string, Promise<FreshToken>>();
  private readonly slots = new Slots(MAX_CONCURRENT_REFRESHES);

  constructor(deps: TokenRefresherDeps) {
    this.deps = deps;
  }

  /** Whether a token expiring at `expiresAt` must be refreshed now; an unknown expiry is learned by refreshing. */
  isDue(expiresAt: Date | null): boolean {
    return expiresAt === null || expiresAt.getTime() - this.deps.now().getTime() <= this.deps.marginMs;
  }

  /**
   * The account's token once refreshed (by this call, or by the flight it joined). The caller's
   * own signal bounds its wait. `rejected`: an access token the provider refused before its
   * expiry (a health check's 401): still stored once the lock is held, it is refreshed even if not due.
   */
  async fresh(account: AccountKey, call: Call, rejected?: string): Promise<FreshToken> {
    const key = `${account.workspaceId}/${account.id}`;
    let flight = this.flights.get(key);
    if (flight === undefined) {
      flight = this.refreshLocked(account, call, rejected).finally(() => this.flights.delete(key));
      // Every joiner may have gone (cancelled) before it settles: its failure is theirs, never an unhandled rejection.
      flight.catch(() => undefined);
      this.flights.set(key, flight);
    }
    return untilAborted(flight, call.signal);
  }

  private async refreshLocked(account: AccountKey, call: Call, rejected: string | undefined): Promise<FreshToken> {
    // The flight serves every joiner, so it is not stopped by the first caller leaving, only by its deadline.
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new AppError("request_timeout", { detail: "The token refresh did not finish before the request deadline." })), Math.max(1, innerBudgetMs(call.deadline)));
    const flightCall = { signal: timeout.signal, deadline: call.deadline, log: call.log };
    try {
      const release = await this.slots.acquire(flightCall.signal);
      try {
        try {
          return await this.refreshUnderLock(account, flightCall, rejected);
        } catch (error) {
          // A reconnection replaced the credentials while the provider answered: start again from them.
          if (!isAppError(error) || error.kind !== "operation_canceled") throw error;
          return await this.refreshUnderLock(account, flightCall, rejected);
        }
      } finally {
        release();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async refreshUnderLock(account: AccountKey, flightCall: Call, rejected: string | undefined): Promise<FreshToken> {
    const { store, lockTimeoutMs } = this.deps;
    const budgetMs = Math.max(1, innerBudgetMs(flightCall.deadline));
    const outcome = await store.refreshAccountLocked(account.workspaceId, account.id, Math.min(lockTimeoutMs, budgetMs), async (current): Promise<{ answer: Outcome; write?: RefreshWrite }> => {
      if (!current?.secrets) throw new AppError("not_found", { metadata: { accountId: account.id } });
      if (current.status === "CREDENTIALS_EXPIRED") throw expired(account.id);
      const live = { ...current, secrets: current.secrets };
      const credentials = openCredentials(this.deps.sealer, live);
      if (credentials.kind !== "oauth") throw new AppError("unexpected_error", { detail: "The account's credentials are no longer OAuth tokens." });
      // Another replica refreshed it while this one waited for the lock: nothing to do.
      if (!this.isDue(current.accessTokenExpiresAt) && credentials.accessToken !== rejected) return { answer: { fresh: { account: live, credentials, scopes: live.grantedScopes ?? [], refreshed: false } } };
      return this.refresh(live, credentials, flightCall);
    });
    if ("refused" in outcome) throw outcome.refused;
    return outcome.fresh;
  }

  private async refresh(account: LiveAccount, credentials: Credentials & OAuthCredentials, call: Call): Promise<{ answer: Outcome; write: RefreshWrite }> {
    const at = this.deps.now();
    try {
      const refreshed = await refreshAccessToken(this.deps.http, this.deps.sources[credentials.provider], credentials.refreshToken, call);
      const sealed = sealRefreshed(this.deps.sealer, account, refreshed);
      const accessTokenExpiresAt = refreshed.expiresAt ?? null;
      const fresh: FreshToken = {
        account: { ...account, secrets: sealed, accessTokenExpiresAt, ...(refreshed.scopes.length > 0 ? { grantedScopes: refreshed.scopes } : {}), updatedAt: at },
        credentials: { ...credentials, accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken ?? credentials.refreshToken },
        // A grant that does not name its scopes keeps those the token had (RFC 6749 §5.1: the same as requested).
        scopes: refreshed.scopes.length > 0 ? refreshed.scopes : (account.grantedScopes ?? []),
        refreshed: true,
      };
      return { answer: { fresh }, write: { at, expected: account.secrets, secrets: { sealed, accessTokenExpiresAt, grantedScopes: refreshed.scopes } } };
    } catch (error) {
      // Anything but a refusal (an outage, a timeout) leaves the account as it is: the transaction rolls back.
      if (!isAppError(error) || error.kind !== "invalid_credentials") throw error;
      this.deps.log.info({ accountId: account.id, provider: credentials.provider }, "the provider refused the refresh token; account CREDENTIALS_EXPIRED");
      const status = { from: account.status, to: "CREDENTIALS_EXPIRED" as const, reason: catalogue.invalid_credentials.type };
      // The status change commits before the lock is released; the answer is the refusal itself.
      return { answer: { refused: expired(account.id) }, write: { at, expected: account.secrets, status } };
    }
  }
}

function expired(accountId: string): AppError {
  return new AppError("invalid_credentials", { detail: "The provider refused the account's refresh token: reconnect the account.", metadata: { accountId } });
}
