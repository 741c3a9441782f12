import type { SettingTree } from "./tree.ts";
import { settingsOf } from "./tree.ts";

/** The configuration part of `--help`: every variable, its default and its meaning, from the schema. */
export function configurationHelp(tree: SettingTree): string {
  const lines: string[] = [];
  for (const s of settingsOf(tree)) {
    lines.push(`  ${s.env}${s.shownDefault === undefined ? "" : ` (default: ${s.shownDefault})`}`);
    lines.push(`      ${s.doc}`);
    lines.push(`      accepts ${s.accepted}`);
  }
  return lines.join("\n");
}
