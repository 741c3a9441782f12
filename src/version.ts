import { readFileSync } from "node:fs";

/** The service's version, from its package.json (read when asked: `--version` only). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}
