import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { AppError } from "../errors/app-error.ts";
import type { SqlDriver, SqlExecutor, SqlParam, Values } from "./sql.ts";

/**
 * Most transactions one COMMIT carries: bounds how long one batch, and the answers it releases,
 * holds the event loop. Measured under a burst of 5,000 calls: 32 keeps the loop's p99 delay
 * near 15 ms, 64 lets it reach 25 ms, for some 10% less CPU per call (half the commits).
 */
export const MAX_BATCH = 32;

/** Continuous work on the connection after which the queue lets the event loop run. */
const YIELD_AFTER_MS = 2;

interface Job {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * A SqlDriver over one node:sqlite connection. node:sqlite is synchronous, so every COMMIT's
 * fsync blocks the event loop: transactions requested while others wait are grouped into one
 * BEGIN IMMEDIATE ... COMMIT (group commit), one fsync for the lot. Each runs in a SAVEPOINT
 * of its own, so one that throws undoes only its own writes. Results are handed out only after
 * the COMMIT, so nobody acts on a write that could still be lost; if the COMMIT fails, every
 * transaction of the batch fails with it.
 */
export function sqliteDriver(db: DatabaseSync): SqlDriver {
  // A statement answers keyed rows or rows of values, never both: one cache for each.
  const statementCache = (returnArrays: boolean) => {
    const statements = new Map<string, StatementSync>();
    return (sql: string) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        if (returnArrays) statement.setReturnArrays(true);
        statements.set(sql, statement);
      }
      return statement;
    };
  };
  const prepared = statementCache(false);
  const preparedForValues = statementCache(true);

  // Runs straight on the connection: for use inside a turn of `serial`.
  const direct: SqlExecutor = {
    async query(sql, params = []) {
      return guard(() => prepared(sql).all(bindings(params)));
    },
    async exec(script) {
      guard(() => db.exec(script));
    },
  };
  // Transaction control, several times per batch: prepared once rather than parsed each time.
  const control = (sql: string) => guard(() => prepared(sql).run());

  // Every turn of the queue is a microtask, so a long queue would hold the event loop until it
  // is empty (a burst of thousands of calls: seconds). A slice is the work done since the loop
  // last got through its check phase; past YIELD_AFTER_MS the next turn waits for the loop.
  let sliceStart: number | undefined;
  const startSlice = () => {
    sliceStart = performance.now();
    setImmediate(() => (sliceStart = undefined));
  };
  const letLoopRun = async () => {
    if (sliceStart === undefined) {
      startSlice();
    } else if (performance.now() - sliceStart >= YIELD_AFTER_MS) {
      await nextLoopTurn();
      startSlice();
    }
  };

  // There is one connection, so an await inside a transaction must not let another caller's
  // statement run on it (it would join, or be undone with, that transaction): calls take turns.
  let tail: Promise<unknown> = Promise.resolve();
  // Turns queued or running: none means nothing is open on the connection.
  let turns = 0;
  const turnEnded = () => {
    turns--;
  };
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    turns++;
    const turn = tail.then(async () => {
      await letLoopRun();
      return fn();
    });
    tail = turn.then(turnEnded, turnEnded);
    return turn;
  };
  /** Whether the current slice has time left (starting one if none is running): as letLoopRun, without waiting. */
  const sliceLeft = () => {
    if (sliceStart === undefined) {
      startSlice();
      return true;
    }
    return performance.now() - sliceStart < YIELD_AFTER_MS;
  };
  /**
   * One statement: at once when the connection is idle (no turn running or waiting, so no
   * transaction open and nobody ahead) and the slice has time left, else in its turn. A turn
   * costs a handful of promises and microtasks, as much as a primary-key read itself.
   */
  const statement = <T>(fn: () => T): Promise<T> => {
    if (turns > 0 || db.isTransaction || !sliceLeft()) return serial(async () => fn());
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const pending: Job[] = [];
  let batchQueued = false;
  const queueBatch = () => {
    batchQueued = true;
    void serial(runBatch);
  };
  const runBatch = async () => {
    // One turn of the event loop first, so transactions of requests read in the same I/O phase join.
    await nextLoopTurn();
    const jobs = pending.splice(0, MAX_BATCH);
    batchQueued = false;
    if (pending.length > 0) queueBatch();
    const outcomes = await runTogether(jobs);
    if (!Array.isArray(outcomes)) {
      for (const job of jobs) job.reject(outcomes.error);
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  };

  /** The jobs' outcomes once committed, or the error that undid the whole batch. */
  const runTogether = async (jobs: Job[]): Promise<Outcome[] | { error: unknown }> => {
    const outcomes: Outcome[] = [];
    try {
      // IMMEDIATE takes the write lock up front, so another process can't make us fail half-way.
      control("BEGIN IMMEDIATE");
      for (const job of jobs) {
        control("SAVEPOINT job");
        try {
          const value = await job.fn(direct);
          control("RELEASE job");
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Some errors (SQLITE_FULL, IOERR, ...) make SQLite roll back the whole transaction itself.
          if (!db.isTransaction) throw error;
          control("ROLLBACK TO job");
          control("RELEASE job");
          outcomes.push({ ok: false, error });
        }
      }
      control("COMMIT");
      return outcomes;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      return { error };
    }
  };

  return {
    kind: "sqlite",
    query: (sql, params = []) => statement(() => guard(() => prepared(sql).all(bindings(params)))),
    // Rows of values are arrays (setReturnArrays); node:sqlite's types only know keyed rows.
    queryValues: (sql, params = []) => statement(() => guard(() => preparedForValues(sql).all(bindings(params)) as unknown as Values[])),
    exec: (script) => serial(() => direct.exec(script)),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        if (!batchQueued) queueBatch();
      }),
    close: () => serial(async () => db.close()),
  };
}

function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `$1..$n` are named parameters to SQLite; node:sqlite binds them from keys "1".."n". */
function bindings(params: readonly SqlParam[]): Record<string, SQLInputValue> {
  const named: Record<string, SQLInputValue> = {};
  // A plain loop: this runs for every statement, and fromEntries(map(...)) built two arrays per parameter.
  for (let i = 0; i < params.length; i++) {
    const value = params[i]!;
    named[i + 1] = value instanceof Date ? value.getTime() : value;
  }
  return named;
}

// Primary result codes meaning the database can't be used right now, as opposed to a bad statement.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const unavailable = new Set([SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN]);

export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = e instanceof Error && "errcode" in e && typeof e.errcode === "number" ? e.errcode & 0xff : undefined;
    if (code !== undefined && unavailable.has(code)) throw new AppError("service_unavailable", { cause: e });
    throw e;
  }
}
