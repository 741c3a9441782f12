import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { IntentChangeFeed } from "./intent-changes.ts";
import { intentChannel } from "./migrations.ts";

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

export interface PgListenerOptions {
  connectionString: string;
  schema: string;
  feed: IntentChangeFeed;
  /** Connection parameters the pool uses too (search_path etc.). */
  connectTimeoutMs: number;
}

/**
 * The process's one LISTEN connection: every intent write on any replica (the trigger of
 * migration 2) reaches the feed as its id. Outside the pool, since a LISTEN lives as long as
 * its session. A lost connection is re-opened with backoff and reported as a resync, because
 * notifications sent meanwhile are gone.
 */
export function startPgListener(options: PgListenerOptions): { close(): Promise<void> } {
  const stopper = new AbortController();
  let client: pg.Client | undefined;
  const channel = `"${intentChannel(options.schema)}"`;

  const run = async () => {
    let backoff = RECONNECT_MIN_MS;
    let first = true;
    while (!stopper.signal.aborted) {
      const lost = new AbortController();
      try {
        client = new pg.Client({ connectionString: options.connectionString, connectionTimeoutMillis: options.connectTimeoutMs, keepAlive: true });
        client.on("error", () => lost.abort());
        client.on("end", () => lost.abort());
        client.on("notification", (message) => {
          if (message.payload) options.feed.changed(message.payload);
        });
        await client.connect();
        await client.query(`LISTEN ${channel}`);
        backoff = RECONNECT_MIN_MS;
        // Anything written while no LISTEN was active may have been missed.
        if (!first) options.feed.resync();
        first = false;
        await sleep(2 ** 31 - 1, undefined, { signal: AbortSignal.any([lost.signal, stopper.signal]) }).catch(() => {});
      } catch {
        // Refused, timed out: try again after the backoff.
      }
      await client?.end().catch(() => {});
      client = undefined;
      if (stopper.signal.aborted) return;
      first = false;
      await sleep(backoff, undefined, { signal: stopper.signal }).catch(() => {});
      backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
    }
  };
  const running = run();
  return {
    async close() {
      stopper.abort();
      await client?.end().catch(() => {});
      await running;
    },
  };
}
