import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";

/** Group- or world-writable: someone else could replace the database or a key file in it. */
const OTHERS_WRITE = 0o022;

/**
 * The data directory holds account data and keys: only the service's user may enter it.
 * A new one is created 0700; an existing one that others can write to is refused (a
 * looser but read-only one is left as the operator made it: every file in it is 0600).
 */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Windows has no POSIX modes to check (stat reports 0o777 for every directory).
  if (process.platform === "win32") return;
  const mode = statSync(dir).mode & 0o7777;
  if ((mode & OTHERS_WRITE) !== 0) {
    throw new Error(
      `DATA_DIR ${dir} has mode 0${mode.toString(8)}: other users can write to it and could replace the database or the keys. Run: chmod 700 ${dir}`,
    );
  }
}

/**
 * Makes `path` exist with mode 0600, or tightens it to 0600 if an earlier version created
 * it looser. SQLite gives a database's -wal and -shm files the database file's own mode, so
 * creating accounts.db this way keeps all three private.
 */
export function ensurePrivateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}
