import { setInterval as every } from "node:timers/promises";
import type { Logger } from "pino";
import type { Store } from "../../../../store/store.ts";
import type { IntentEngine } from "./engine.ts";

export interface SweeperOptions {
  store: Store;
  engine: IntentEngine;
  /** How often this replica sweeps. */
  everyMs: number;
  /** An intent is swept this long after its expiry: the replicas tracking it (their expiry timers, which ask the provider side first) go first. */
  graceMs: number;
  now: () => Date;
  log: Logger;
}

/** Rows one sweep statement closes at most: short transactions, row locks held briefly. */
const SWEEP_BATCH = 200;

/**
 * Closes abandoned intents (their process died, nobody tracks them): EXPIRED, sealed request
 * erased, the provider side told to drop the login. Runs on every replica, no leader: each
 * batch claims rows with FOR UPDATE SKIP LOCKED, so two sweeps never close the same intent.
 */
export function startSweeper(options: SweeperOptions): { stop(): void } {
  const stopper = new AbortController();
  const run = async () => {
    for await (const _ of every(options.everyMs, undefined, { signal: stopper.signal, ref: false })) {
      await sweepOnce(options).catch((err: unknown) => options.log.warn({ err }, "intent sweep failed; the next one tries again"));
    }
  };
  run().catch(() => {
    // Aborted: stopped.
  });
  return { stop: () => stopper.abort() };
}

/** One sweep: batches until no expired intent is left. Returns how many it closed. */
export async function sweepOnce(options: Omit<SweeperOptions, "everyMs">): Promise<number> {
  let total = 0;
  for (;;) {
    const now = options.now();
    const swept = await options.store.sweepExpiredIntents(new Date(now.getTime() - options.graceMs), now, SWEEP_BATCH);
    total += swept.length;
    // The provider side drops the logins (best effort: cancelRemote never throws, a one-shot intent has nothing there).
    for (const record of swept) void options.engine.cancelRemote(record, options.log);
    if (swept.length > 0) options.log.info({ count: swept.length }, "swept expired intents");
    if (swept.length < SWEEP_BATCH) return total;
  }
}
