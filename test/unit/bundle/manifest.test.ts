import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stampOf, unchanged } from "../../../src/bundle/manifest.ts";

describe("the start-up bundle's staleness check", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "ppa-bundle-"));
    writeFileSync(join(root, "a.ts"), "export const a = 1;\n");
    writeFileSync(join(root, "b.ts"), "export const b = 2;\n");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const stamps = () => ["a.ts", "b.ts"].map((path) => stampOf(path, root));

  it("holds while no file it was made from changes", () => {
    expect(unchanged(stamps(), root)).toBe(true);
  });

  it("fails when a file's content changes size", () => {
    const made = stamps();
    writeFileSync(join(root, "b.ts"), "export const b = 22;\n");
    expect(unchanged(made, root)).toBe(false);
  });

  it("fails when a file is rewritten at the same size (its modification time moves)", () => {
    const made = stamps();
    writeFileSync(join(root, "a.ts"), "export const a = 3;\n");
    utimesSync(join(root, "a.ts"), new Date(), new Date(Date.now() + 5_000));
    expect(unchanged(made, root)).toBe(false);
  });

  it("fails when a file is gone", () => {
    const made = stamps();
    rmSync(join(root, "a.ts"));
    expect(unchanged(made, root)).toBe(false);
  });
});
