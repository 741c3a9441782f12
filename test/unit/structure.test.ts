import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** House rules a reviewer should not have to count by hand: no import cycle under src/, no file there over 300 lines. */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SRC = join(ROOT, "src");
const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith(".ts") ? [path] : [];
  });
}

describe("the shape of src/", () => {
  it(`has no file over ${MAX_LINES} lines`, () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const long = files.map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length })).filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it("has no import cycle (madge --circular, type imports included)", () => {
    // The same command `npm run lint:cycles` runs; --json prints the cycles as a list.
    const madge = spawnSync(process.execPath, [join(ROOT, "node_modules/madge/bin/cli.js"), "--circular", "--extensions", "ts", "--json", "src"], { cwd: ROOT, encoding: "utf8" });
    expect(madge.status, madge.stderr).toBe(0);
    const cycles = JSON.parse(madge.stdout) as string[][];
    expect(cycles).toEqual([]);
  }, 60_000);
});
