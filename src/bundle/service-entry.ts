import { pathToFileURL } from "node:url";
import { currentBundle } from "./manifest.ts";

/**
 * What main.ts imports to run the service: the bundle of src/serve.ts, built first when it is
 * missing or any file it came from changed (so `npm start` never runs a stale one), or the
 * sources themselves when it cannot be built (a read-only install directory, for one).
 */
export async function serviceEntry(): Promise<string> {
  const bundle = currentBundle();
  if (bundle !== undefined) return pathToFileURL(bundle).href;
  try {
    const { buildBundle } = await import("./build.ts");
    return pathToFileURL(await buildBundle()).href;
  } catch (e) {
    // Slower to start, otherwise the same service: worth a warning, not a refusal to start.
    process.emitWarning(`starting from the sources: the start-up bundle could not be built (${(e as Error).message})`);
    return new URL("../serve.ts", import.meta.url).href;
  }
}
