/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and by total
 * (inclusive) time, with file:line relative to the repository.
 *
 *   node bench/profile-summary.ts bench/out/profiles/connect-grpc-sqlite.cpuprofile [top=30]
 *
 * PROFILE_FROM=<text>: only the samples from the first one whose stack has a frame whose file
 * contains <text> (e.g. `src/transport/grpc.ts`: the first call served), so that the server's
 * start-up and seeding, which can be half of a short run's profile, leave the steady state alone.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [path, topArg] = process.argv.slice(2);
if (!path) {
  console.error("usage: node bench/profile-summary.ts FILE.cpuprofile [top]");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const where = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^file:\/\/.*?\/(node_modules|src|bench|gen)\//, "$1/").replace(/^node:/, "node:");
  return `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
};

const from = process.env.PROFILE_FROM;
const stackHas = (id: number, text: string) => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) if (byId.get(at)!.callFrame.url.includes(text)) return true;
  return false;
};
const firstKept = from ? Math.max(0, profile.samples.findIndex((id) => stackHas(id, from))) : 0;

// Self time per node: each sample's time delta goes to the node sampled.
const selfUs = new Map<number, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  if (i < firstKept) return;
  const dt = profile.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  totalUs += dt;
});

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(where(node), (self.get(where(node)) ?? 0) + us);
  // Each function on the stack once (recursion counted once).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = where(byId.get(at)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

// Self time by area: which package or folder the sampled function lives in.
const area = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { url, functionName } = byId.get(id)!.callFrame;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  const key = m ? m[1]! : /\/src\//.test(url) ? `src/${/\/src\/(.*)$/.exec(url)![1]!.split("/")[0]}` : url.startsWith("node:") ? "node: (core JS)" : url ? url.replace(/^.*\//, "") : `(${functionName || "native"})`;
  area.set(key, (area.get(key) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const print = (title: string, table: Map<string, number>, n: number) => {
  console.log(`\n## ${title}\n`);
  for (const [key, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)} ${ms(us)}  ${key}`);
};

console.log(`${path}: ${(totalUs / 1e6).toFixed(2)} s sampled, ${profile.samples.length - firstKept} samples${from ? ` (from the first with ${from})` : ""}`);
print("self time by area", area, 25);
print(`top ${top} functions by self time`, self, top);
print(`top ${top} functions by total time`, inclusive, top);
