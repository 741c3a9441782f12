import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/process.ts";

/**
 * A clone anywhere must pass: no source, test, script or tool refers to a relative path that
 * leaves the repository (as a test once read the contract from a folder beside the repository).
 */

const SCANNED = ["src", "test", "scripts", "bench", "tools", ".ci", "docs", "README.md", "package.json", "vitest.config.ts", "buf.gen.yaml", "buf.yaml"];

function files(path: string): string[] {
  const full = join(REPO_ROOT, path);
  try {
    return readdirSync(full, { withFileTypes: true }).flatMap((e) => files(join(path, e.name)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return [path];
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

describe("the repository is self-contained", () => {
  it("every relative path written in a file resolves inside the repository", () => {
    const escaping: string[] = [];
    for (const file of SCANNED.flatMap(files)) {
      const text = readFileSync(join(REPO_ROOT, file), "utf8");
      // A relative path in quotes, backticks or parentheses (Markdown links): "../x", `../x`, (../x).
      for (const m of text.matchAll(/["'`(]((?:\.\.?\/)+[\w.@-][^"'`)\s]*)/g)) {
        const target = resolve(REPO_ROOT, dirname(file), m[1]!);
        if (relative(REPO_ROOT, target).startsWith("..")) escaping.push(`${file}: ${m[1]}`);
      }
    }
    expect(escaping).toEqual([]);
  });
});
