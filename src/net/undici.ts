import { createRequire } from "node:module";

type Undici = typeof import("undici");

// undici is CommonJS: required on first use, synchronously, so that constructors can build dispatchers.
const require = createRequire(import.meta.url);
let loaded: Undici | undefined;

/**
 * undici, loaded on first use: importing it costs the start-up ~110 ms and ~30 MB, for what
 * only provider calls, web logins and webhook deliveries use.
 */
export function undici(): Undici {
  return (loaded ??= require("undici") as Undici);
}
