import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gatewayListen, schema } from "../../src/config.ts";
import { settingsOf } from "../../src/config/tree.ts";
import { REPO_ROOT } from "../support/process.ts";

/** The README's configuration table documents every variable the schema reads, with its default. */

describe("README: Configuration", () => {
  it("has a row for every setting of the schemas (server and gateway process), showing its default", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Configuration\n"), readme.indexOf("## Operating it"));
    const rows = section.split("\n").filter((l) => l.startsWith("| `"));
    const missing: string[] = [];
    // The gateway process's own settings too (the rest of its subset is the server's).
    for (const s of settingsOf({ schema, gatewayListen })) {
      const row = rows.find((r) => r.split("|")[1]!.includes(`\`${s.env}\``));
      if (!row) missing.push(`${s.env}: no row`);
      else if (s.shownDefault !== undefined && !row.includes(`\`${s.shownDefault}\``) && !row.includes("see [")) missing.push(`${s.env}: default ${s.shownDefault} not shown`);
    }
    expect(missing).toEqual([]);
  });
});
