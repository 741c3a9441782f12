import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: bundle paths are kept relative to it, so a moved checkout still matches. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** A cache like Node's compile cache beside it: derived from the sources, rebuilt when missing. */
export const BUNDLE_DIR = join(ROOT, "node_modules/.cache/postpress-accounts-bundle");
export const MANIFEST = join(BUNDLE_DIR, "manifest.json");

/** A file the bundle was made from (or made), as it was then. */
export type FileStamp = [path: string, mtimeMs: number, size: number];

/** What a build wrote: its entry (relative to BUNDLE_DIR), and every file it depends on or produced. */
export interface Manifest {
  entry: string;
  files: FileStamp[];
}

export function stampOf(path: string, root = ROOT): FileStamp {
  // Concatenated, not path.join: normalizing ~250 paths showed in a start's profile.
  const stat = statSync(`${root}/${path}`);
  return [path, stat.mtimeMs, stat.size];
}

/** Whether every file the manifest lists (relative to `root`) still has the size and modification time it had. */
export function unchanged(files: readonly FileStamp[], root = ROOT): boolean {
  try {
    return files.every(([path, mtimeMs, size]) => {
      const [, nowMtimeMs, nowSize] = stampOf(path, root);
      return nowMtimeMs === mtimeMs && nowSize === size;
    });
  } catch {
    // A file it was made from is gone.
    return false;
  }
}

/**
 * The bundle's entry file, if a bundle exists and every file it was built from (sources,
 * gen/, the packages' lockfile, the build itself) and every module it wrote is exactly as it
 * was then; otherwise undefined. Only stats: about 250 of them.
 */
export function currentBundle(): string | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  } catch {
    return undefined; // no bundle built yet
  }
  return unchanged(manifest.files) ? join(BUNDLE_DIR, manifest.entry) : undefined;
}
