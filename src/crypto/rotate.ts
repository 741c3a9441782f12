import type { StaleSecret, Store } from "../store/store.ts";
import { SealError, sealingAad, type Sealer } from "./sealer.ts";

export interface RotateDeps {
  store: Pick<Store, "listStaleSecrets" | "replaceSecret">;
  sealer: Sealer;
  activeKeyId: string;
  /** Rows fetched per listStaleSecrets call (default 100). */
  batchSize?: number;
  /** Called after each batch with the number of rows handled so far in this run. */
  onProgress?: (n: number) => void;
  /** Called for each row that cannot be opened (unknown key, tampered, malformed). */
  onFailure?: (row: { table: StaleSecret["table"]; id: string }, error: SealError) => void;
}

export interface RotateResult {
  /** Rows now sealed under the active key. */
  resealed: number;
  /** Rows a concurrent writer changed between listing and replacing (compare-and-set lost). */
  skipped: number;
  /** Rows that could not be opened; they stay as they are and are reported through onFailure. */
  failed: number;
}

/**
 * Reseals every secret not under the active key. Each row is opened, resealed and replaced
 * on its own (compare-and-set), so an interrupted run leaves only whole rows behind and
 * re-running continues with what is still stale.
 *
 * A row that stays stale (lost CAS, cannot be opened) would be listed again forever, so
 * rows are handled at most once per run, and the page size grows by the number of such
 * rows so they never crowd out the rest. A row a concurrent writer re-seals under an old
 * key after we resealed it is left for the next run.
 */
export async function rotateSecrets(deps: RotateDeps): Promise<RotateResult> {
  const { store, sealer, activeKeyId, onProgress, onFailure } = deps;
  const batchSize = deps.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`rotateSecrets: batchSize must be a positive integer, got ${batchSize}`);
  // Otherwise resealed rows would still be stale for the listing, and nothing would progress.
  if (sealer.activeKeyId !== activeKeyId) {
    throw new Error(`rotateSecrets: the sealer seals under "${sealer.activeKeyId}", not the requested active key "${activeKeyId}"`);
  }

  const result: RotateResult = { resealed: 0, skipped: 0, failed: 0 };
  const seen = new Set<string>();
  let stuck = 0;
  for (;;) {
    const page = await store.listStaleSecrets(activeKeyId, batchSize + stuck);
    const fresh = page.filter((row) => !seen.has(`${row.table}:${row.id}`));
    if (fresh.length === 0) return result;

    for (const row of fresh) {
      seen.add(`${row.table}:${row.id}`);
      const aad = sealingAad(row.workspaceId, row.id);
      let plaintext: Buffer;
      try {
        plaintext = sealer.open(row.secrets, aad);
      } catch (e) {
        if (!(e instanceof SealError)) throw e;
        result.failed++;
        stuck++;
        onFailure?.({ table: row.table, id: row.id }, e);
        continue;
      }
      const next = sealer.seal(plaintext, aad);
      plaintext.fill(0);
      if (await store.replaceSecret(row, next)) {
        result.resealed++;
      } else {
        result.skipped++;
        stuck++;
      }
    }
    onProgress?.(result.resealed + result.skipped + result.failed);
  }
}
