/**
 * A `secrets migrate` run that stops dead after PAUSE_AFTER_PAGES pages of one row each: it
 * prints "paused <counts>" and waits to be SIGKILLed, so a test kills it after exactly that
 * many rows rather than after however many a timer allowed. Reads the store and the sealing
 * keys from the environment like the CLI (DATA_DIR or DATABASE_URL, SEALING_KEYS).
 */
import { loadConfig } from "../../src/config.ts";
import { migrateSealedCredentials } from "../../src/domain/credentials/migrate-sealed-credentials.ts";
import { createLogger } from "../../src/logging.ts";
import { openRuntime } from "../../src/runtime.ts";

const pauseAfter = Number(process.env.PAUSE_AFTER_PAGES);
if (!Number.isInteger(pauseAfter) || pauseAfter < 1) throw new Error("PAUSE_AFTER_PAGES must be a positive integer");
const { store, sealer } = await openRuntime(loadConfig(), createLogger({ level: "warn", destination: process.stderr }));
let pages = 0;
const result = await migrateSealedCredentials({
  store,
  sealer,
  pageSize: 1,
  onPage: async (progress) => {
    if (++pages < pauseAfter) return;
    process.stdout.write(`paused ${JSON.stringify(progress)}\n`);
    // Keeps the process alive (a pending promise alone would not) until the test kills it.
    setInterval(() => {}, 60_000);
    await new Promise<never>(() => {});
  },
});
process.stdout.write(`finished before pausing ${JSON.stringify(result)}\n`);
await store.close();
