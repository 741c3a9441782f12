import { appendEvent } from "./outbox.ts";
import { accountFromRow, grantedScopesToRow, secretsToRow, text } from "./rows.ts";
import type { Row, SqlDriver, SqlExecutor } from "./sql.ts";
import { assignments, Rollback, rollingBack } from "./sql-helpers.ts";
import { closeConnected, openIntentIn, type PendingBound } from "./sql-intents.ts";
import type { AccountRecord, AccountStatus, IntentRecord, OpenReconnectIntentResult, ReconnectAccountResult } from "./store.ts";

/**
 * ReconnectAccount's writes. The account is RECONNECTING exactly while an intent for it is
 * open: opening one marks it (remembering the status it had), the reconnection's success
 * replaces its credentials and makes it CONNECTED, and any other end of its last open intent
 * puts the status back (reconnect-status.ts, in the transaction that closes the intent). Each
 * status change goes to the outbox with it.
 */
export function createReconnectStore(db: SqlDriver, announce: (intentIds: readonly string[]) => void, bound: PendingBound | undefined) {
  const forUpdate = db.kind === "postgres" ? "FOR UPDATE" : "";
  return {
    /** In one transaction: the account must be live; the intent opens as openIntent does; the account becomes RECONNECTING. */
    async openReconnectIntent(intent: IntentRecord, now: Date, restart = false, maxOpen?: number): Promise<OpenReconnectIntentResult> {
      const written: Row[] = [];
      const result = await db.transaction(async (tx): Promise<OpenReconnectIntentResult> => {
        // Locks the account row: a delete or another reconnection of it waits for this one.
        const [account] = await tx.query(`SELECT status FROM accounts WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED' ${forUpdate}`, [intent.workspaceId, intent.accountId]);
        if (!account) return { accountGone: true };
        // An intent it expires or cancels may have held the account RECONNECTING: openIntentIn puts the status back unless this one opens.
        const opened = await openIntentIn(tx, intent, now, restart, maxOpen, written, bound);
        if ("opened" in opened && account.status !== "RECONNECTING") await markReconnecting(tx, intent, text(account.status) as AccountStatus, now);
        return opened;
      });
      if (written.length > 0) announce(written.map((row) => text(row.id)));
      return result;
    },

    /**
     * In one transaction: close the intent CONNECTED (it must still be open and unexpired),
     * check the account is live and the same provider identity, replace its credentials, identity
     * details, options and token expiry, make it CONNECTED (id and create time kept), and put
     * account.reconnected (and the status change) in the outbox.
     */
    async reconnectAccount(account: AccountRecord, intentId: string, now: Date): Promise<ReconnectAccountResult> {
      const result = await rollingBack(db, async (tx): Promise<ReconnectAccountResult> => {
        const gone = await closeConnected(tx, intentId, account.workspaceId, now);
        if (gone) return gone;
        const [current] = await tx.query(`SELECT provider, provider_user_id, status FROM accounts WHERE workspace_id = $1 AND id = $2 ${forUpdate}`, [account.workspaceId, account.id]);
        // Undone whole: the intent stays open for the engine to fail it with the matching error.
        if (!current || current.status === "DELETED") throw new Rollback<ReconnectAccountResult>({ accountGone: true });
        if (current.provider !== account.provider || current.provider_user_id !== account.identity.providerUserId) throw new Rollback<ReconnectAccountResult>({ otherIdentity: true });
        const columns = {
          display_name: account.identity.displayName ?? null,
          handle: account.identity.handle ?? null,
          email: account.identity.email ?? null,
          status: "CONNECTED",
          status_reason: null,
          status_before_reconnect: null,
          status_changed_at: now,
          options: JSON.stringify(account.options),
          ...secretsToRow(account.secrets),
          access_token_expires_at: account.accessTokenExpiresAt,
          // The new tokens' grant: the old one's scopes no longer say anything.
          granted_scopes: grantedScopesToRow(account.grantedScopes),
          updated_at: now,
          // Scheduled afresh by the health checker, which sees it as new.
          next_check_at: null,
          check_failures: 0,
        };
        const [row] = await tx.query(`UPDATE accounts SET ${assignments(columns, 3)} WHERE workspace_id = $1 AND id = $2 RETURNING *`, [account.workspaceId, account.id, ...Object.values(columns)]);
        const from = text(current.status) as AccountStatus;
        if (from !== "CONNECTED") await appendEvent(tx, { workspaceId: account.workspaceId, accountId: account.id, type: "account.status_changed", change: { from, to: "CONNECTED", reason: null }, at: now });
        await appendEvent(tx, { workspaceId: account.workspaceId, accountId: account.id, type: "account.reconnected", change: null, at: now });
        return { reconnected: accountFromRow(row!) };
      });
      if ("reconnected" in result) announce([intentId]);
      return result;
    },
  };
}

async function markReconnecting(tx: SqlExecutor, intent: IntentRecord, from: AccountStatus, at: Date): Promise<void> {
  await tx.query(
    "UPDATE accounts SET status_before_reconnect = status, status = 'RECONNECTING', status_changed_at = $3, updated_at = $3 WHERE workspace_id = $1 AND id = $2",
    [intent.workspaceId, intent.accountId, at],
  );
  await appendEvent(tx, { workspaceId: intent.workspaceId, accountId: intent.accountId, type: "account.status_changed", change: { from, to: "RECONNECTING", reason: null }, at });
}
