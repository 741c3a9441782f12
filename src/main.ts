import { enableCompileCache, flushCompileCache } from "node:module";
import { fileURLToPath } from "node:url";

// Node keeps every module's compiled form here (TypeScript stripped, V8 code cache), so a start
// after the first skips most of the time spent loading modules. NODE_COMPILE_CACHE, when set,
// takes precedence. The service is imported only now: static imports would load before this.
enableCompileCache(fileURLToPath(new URL("../node_modules/.cache/postpress-accounts", import.meta.url)));
await import("./serve.ts");
// Written now that start-up has loaded what it needs: a process killed later would never write it.
flushCompileCache();
