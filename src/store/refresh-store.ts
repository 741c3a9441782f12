import type { StatusChange } from "./outbox-store.ts";
import type { AccountRecord, SealedBlob } from "./records.ts";

// Issue 16: one OAuth refresh at a time per account, across replicas.

/** What a locked refresh writes before the lock is released (nothing, when the token was fresh after all). */
export interface RefreshWrite {
  at: Date;
  /** The re-sealed secrets with the new token, and its expiry. */
  secrets?: { sealed: SealedBlob; accessTokenExpiresAt: Date | null };
  /** A status change (the provider refused the refresh), announced as account.status_changed in the same transaction. */
  status?: StatusChange;
}

export interface CredentialRefreshStore {
  /**
   * Runs `refresh` as the only refresher of the account: PostgreSQL holds its row lock
   * (SELECT ... FOR UPDATE, waiting at most `lockTimeoutMs`, then service_unavailable) from
   * the read `refresh` gets to the commit of what it returns; the embedded store has one
   * process, whose caller holds an in-process lock per account instead. `refresh` gets the
   * account as it is once the lock is held (undefined if gone or deleted) and returns its
   * answer and what to write.
   */
  refreshAccountLocked<T>(workspaceId: string, accountId: string, lockTimeoutMs: number, refresh: (account: AccountRecord | undefined) => Promise<{ answer: T; write?: RefreshWrite }>): Promise<T>;
}
