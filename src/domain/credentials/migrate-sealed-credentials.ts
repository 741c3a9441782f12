import { SealError, sealingAad, type Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { SealedCredentialsTable, StaleSecret, Store } from "../../store/store.ts";
import { decodeCredentials, isDomainForm, sealCredentials } from "./sealed-credentials.ts";

export interface MigrateDeps {
  store: Pick<Store, "listSealedCredentials" | "replaceSecret">;
  sealer: Sealer;
  /** Rows read per page (default 100). */
  pageSize?: number;
  /** Awaited after each page with the counts so far: the progress line, and the point a test stops a run at. */
  onPage?: (progress: MigrateResult) => void | Promise<void>;
  /** Called for each row that cannot be opened or decoded; the row stays as it is. Never given a value. */
  onFailure?: (row: { table: StaleSecret["table"]; id: string }, error: SealError | AppError) => void;
}

export interface MigrateResult {
  /** Rows rewritten from the legacy request form to the domain form. */
  migrated: number;
  /** Rows already in the domain form (written by this version, or by an earlier run). */
  current: number;
  /** Rows a concurrent writer changed between reading and replacing (compare-and-set lost): its blob is this version's. */
  skipped: number;
  /** Rows that could not be opened (unknown key, tampered) or decoded. */
  failed: number;
}

const TABLES: readonly SealedCredentialsTable[] = ["accounts", "intents"];

/**
 * Rewrites every sealed credential still in main's ConnectAccountRequest form into the domain
 * form (sealed-credentials.ts), under the active key. Rows are read a page at a time in id
 * order and each is replaced on its own by compare-and-set, so a run killed at any point
 * leaves only whole rows, each readable in one form or the other; running again walks the
 * tables anew, counts the rows already migrated as current and rewrites the rest. A writer of
 * this version only ever writes the domain form, so a lost compare-and-set needs no retry.
 */
export async function migrateSealedCredentials(deps: MigrateDeps): Promise<MigrateResult> {
  const { store, sealer, onPage, onFailure } = deps;
  const pageSize = deps.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`migrateSealedCredentials: pageSize must be a positive integer, got ${pageSize}`);
  const result: MigrateResult = { migrated: 0, current: 0, skipped: 0, failed: 0 };
  for (const table of TABLES) {
    let afterId = "";
    for (;;) {
      const page = await store.listSealedCredentials(table, afterId, pageSize);
      for (const row of page) result[await migrateRow(row, deps, onFailure)]++;
      if (page.length > 0) await onPage?.({ ...result });
      if (page.length < pageSize) break;
      afterId = page.at(-1)!.id;
    }
  }
  return result;
}

async function migrateRow(row: StaleSecret, { store, sealer }: MigrateDeps, onFailure: MigrateDeps["onFailure"]): Promise<keyof MigrateResult> {
  let plaintext: Buffer | undefined;
  try {
    plaintext = sealer.open(row.secrets, sealingAad(row.workspaceId, row.id));
    if (isDomainForm(plaintext)) return "current";
    const next = sealCredentials(sealer, decodeCredentials(plaintext), row.workspaceId, row.id);
    return (await store.replaceSecret(row, next)) ? "migrated" : "skipped";
  } catch (e) {
    if (!(e instanceof SealError) && !(e instanceof AppError)) throw e;
    onFailure?.({ table: row.table, id: row.id }, e);
    return "failed";
  } finally {
    plaintext?.fill(0);
  }
}
