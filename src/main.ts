import { enableCompileCache, flushCompileCache } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// Node keeps every module's compiled form here (TypeScript stripped, V8 code cache), so a start
// after the first skips most of the time spent loading modules. NODE_COMPILE_CACHE, when set,
// takes precedence. The service is imported only now: static imports would load before this.
enableCompileCache(fileURLToPath(new URL("../node_modules/.cache/postpress-accounts", import.meta.url)));

let options: { help?: boolean; version?: boolean };
try {
  options = parseArgs({ options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } } }).values;
} catch (e) {
  console.error(`postpress-accounts: ${(e as Error).message}\nTry --help.`);
  process.exit(2);
}
if (options.help) {
  const { serverUsage } = await import("./usage.ts");
  console.log(serverUsage());
} else if (options.version) {
  const { version } = await import("./version.ts");
  console.log(version());
} else {
  const { serviceEntry } = await import("./bundle/service-entry.ts");
  await import(await serviceEntry());
  // Written now that start-up has loaded what it needs: a process killed later would never write it.
  flushCompileCache();
}
