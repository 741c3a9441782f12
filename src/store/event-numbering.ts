import type { SqlDriver } from "./sql.ts";

/** Any fixed number: the first key of the per-workspace numbering lock (the second is the workspace's hash). */
const NUMBERING_LOCK_SPACE = 1_702;

/**
 * The event stream's cursor on PostgreSQL, given after commit.
 *
 * A sequence value taken at INSERT is seen only at COMMIT, so numbering events as they are
 * written would let a reader see 8 before 7 commits and pass 7 for good; writers would have to
 * commit a workspace's events one at a time, holding a lock through each commit's WAL flush.
 * Instead an event is written with `pos` NULL and numbered here, by whoever reads the stream:
 * only committed events are numbered (a statement sees nothing else), in seq order, one
 * numbering of a workspace at a time, each committed before the next begins (the lock is held
 * through COMMIT, and the UPDATE's snapshot is taken after it is granted). So every pos a
 * reader sees was given before any pos still to come: a stream that resumes after a cursor
 * misses nothing, and an account's events, written one transaction after another under its
 * row lock, keep their order.
 */
export async function numberEvents(db: SqlDriver, workspaceId: string, limit: number): Promise<void> {
  const [pending] = await db.query("SELECT EXISTS (SELECT 1 FROM events WHERE workspace_id = $1 AND pos IS NULL) AS any", [workspaceId]);
  if (pending?.any !== true) return;
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [NUMBERING_LOCK_SPACE, workspaceId]);
    // nextval runs over the rows in the order of the subquery's ORDER BY. The oldest `limit` only, so that a
    // backlog (events written while nobody read the stream) is numbered a page at a time, each well within the statement timeout.
    await tx.query(
      `UPDATE events SET pos = numbered.pos FROM (
         SELECT seq, nextval('events_pos') AS pos FROM (SELECT seq FROM events WHERE workspace_id = $1 AND pos IS NULL ORDER BY seq LIMIT $2) AS unnumbered
       ) AS numbered WHERE events.seq = numbered.seq`,
      [workspaceId, limit],
    );
  });
}
