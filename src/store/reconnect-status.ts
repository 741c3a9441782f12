import { appendEvent } from "./outbox.ts";
import { text, textOrNull } from "./rows.ts";
import type { SqlExecutor } from "./sql.ts";
import type { AccountStatus, IntentRecord } from "./store.ts";

/**
 * Inside the transaction that closed intents of these accounts: each account still
 * RECONNECTING with no open intent left goes back to the status it had (its reason kept).
 * Accounts that are not reconnecting (and the fresh ids of ConnectAccount's intents) are untouched.
 */
export async function revertReconnects(tx: SqlExecutor, accountIds: readonly string[], at: Date): Promise<void> {
  for (const accountId of new Set(accountIds)) {
    const rows = await tx.query(
      `UPDATE accounts SET status = status_before_reconnect, status_before_reconnect = NULL, status_changed_at = $2, updated_at = $2
       WHERE id = $1 AND status = 'RECONNECTING' AND status_before_reconnect IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM intents WHERE intents.workspace_id = accounts.workspace_id AND intents.account_id = $1 AND intents.closed_at IS NULL)
       RETURNING workspace_id, status, status_reason`,
      [accountId, at],
    );
    for (const row of rows) {
      const change = { from: "RECONNECTING" as const, to: text(row.status) as AccountStatus, reason: textOrNull(row.status_reason) };
      await appendEvent(tx, { workspaceId: text(row.workspace_id), accountId, type: "account.status_changed", change, at });
    }
  }
}

/** Whether an intent's stored flow state is a reconnection's (engine/core/flow-state.ts writes `reconnect: true`). */
export function isReconnectState(state: Record<string, unknown> | null | undefined): boolean {
  return state?.reconnect === true;
}

/**
 * Whether this intent was a reconnection's, so its end may have to put its account's status back:
 * its flow state says so, or (before the engine first wrote a state) its identity key does.
 */
export function wasReconnection(intent: Pick<IntentRecord, "state" | "identityKey">): boolean {
  return isReconnectState(intent.state) || isReconnectIdentity(intent.identityKey);
}

const RECONNECT_KEY_PREFIX = "account:";

/**
 * A reconnection's identity key: the account itself (ConnectAccount's keys are `user:`, `token:`, `phone:`
 * or `qr:`, domain/accounts/variants.ts: never an account), so one reconnection of an account is open at a time.
 */
export function reconnectIdentityKey(accountId: string): string {
  return `${RECONNECT_KEY_PREFIX}${accountId}`;
}

/** Whether an intent's identity key is a reconnection's (reconnectIdentityKey). */
export function isReconnectIdentity(identityKey: string): boolean {
  return identityKey.startsWith(RECONNECT_KEY_PREFIX);
}
