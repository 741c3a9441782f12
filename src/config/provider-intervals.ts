import { Invalid } from "./setting.ts";

/** ACCOUNT_CHECK_INTERVALS: PROVIDER=milliseconds pairs, comma-separated. */
export function providerIntervals(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of value.split(",").filter((p) => p.trim() !== "")) {
    const m = /^\s*([A-Z_]+)\s*=\s*(\d+)\s*$/.exec(pair);
    if (!m || Number(m[2]) < 1) throw new Invalid(`"${pair.trim()}" is not PROVIDER=milliseconds`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}
