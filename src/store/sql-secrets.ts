import { secretsFromRow, text } from "./rows.ts";
import type { Row, SqlDriver } from "./sql.ts";
import type { StaleSecret, Store } from "./store.ts";

/** Maps the caller's table name to a fixed identifier, so nothing from outside is spliced into SQL. */
const secretTables: Record<StaleSecret["table"], string> = { accounts: "accounts", intents: "intents", webhook_endpoints: "webhook_endpoints" };

/**
 * The sealed blobs as a whole, for the passes that rewrite them: key rotation (`secrets
 * rotate`) and the credentials migration (`secrets migrate`). Both replace a row only if it
 * still holds the blob they read, so they run beside live traffic and can be interrupted.
 */
export function createSecretStore(db: SqlDriver): Pick<Store, "listStaleSecrets" | "replaceSecret" | "listSealedCredentials"> {
  return {
    async listStaleSecrets(activeKeyId, limit) {
      const stale = (table: StaleSecret["table"]) =>
        `SELECT '${table}' AS source, id, workspace_id, secrets_key_id, secrets_envelope FROM ${table} WHERE secrets_key_id <> $1`;
      const rows = await db.query(`${stale("accounts")} UNION ALL ${stale("intents")} UNION ALL ${stale("webhook_endpoints")} ORDER BY id LIMIT $2`, [activeKeyId, limit]);
      return rows.map((row) => sealedRow(text(row.source) as StaleSecret["table"], row));
    },

    async replaceSecret(ref, next) {
      // Comparing the envelope too, not only the key id, keeps a concurrent rewrite under the same old key.
      const rows = await db.query(
        `UPDATE ${secretTables[ref.table]} SET secrets_key_id = $1, secrets_envelope = $2
         WHERE id = $3 AND workspace_id = $4 AND secrets_key_id = $5 AND secrets_envelope = $6 RETURNING id`,
        [next.keyId, next.envelope, ref.id, ref.workspaceId, ref.secrets.keyId, ref.secrets.envelope],
      );
      return rows.length > 0;
    },

    async listSealedCredentials(table, afterId, limit) {
      const rows = await db.query(
        `SELECT id, workspace_id, secrets_key_id, secrets_envelope FROM ${secretTables[table]}
         WHERE id > $1 AND secrets_key_id IS NOT NULL ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((row) => sealedRow(table, row));
    },
  };
}

/** Only for rows selected with their secrets set ("<> $1" and "IS NOT NULL" leave out the others). */
function sealedRow(table: StaleSecret["table"], row: Row): StaleSecret {
  return { table, id: text(row.id), workspaceId: text(row.workspace_id), secrets: secretsFromRow(row)! };
}
