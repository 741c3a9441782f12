import { mkdirSync } from "node:fs";

/** The data directory holds account data and keys: only the service's user may enter it. */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
