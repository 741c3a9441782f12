import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { AppError } from "../../../../errors/app-error.ts";
import type { IntentRecord } from "../../../../store/store.ts";
import { FINAL_AUTH_STATUSES } from "../../../connectors/interactive.ts";
import { isInteractive } from "../../../connectors/registry.ts";
import { inputOfReport } from "../core/inputs.ts";
import { isOpen } from "../core/intent.ts";
import type { IntentEngine } from "./engine.ts";
import { intentOf } from "./records.ts";

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

/**
 * Follows the provider side's event stream of one interactive intent, stepping each event in,
 * until the intent ends or `signal` aborts; a broken stream is listened to again with backoff.
 * `latest` gives the freshest copy this process knows; `onRecord` takes each written one.
 */
export async function follow(engine: IntentEngine, latest: () => IntentRecord, onRecord: (record: IntentRecord) => void, signal: AbortSignal, log: Logger): Promise<void> {
  const flow = intentOf(latest()).flow;
  if (flow.flow !== "interactive") return;
  const connector = engine.deps.connectors.connectorFor(flow.variant);
  if (!isInteractive(connector)) return;
  let backoff = BACKOFF_MIN_MS;
  while (!signal.aborted && isOpen(latest())) {
    try {
      for await (const event of connector.events(flow.key, signal, log)) {
        backoff = BACKOFF_MIN_MS;
        const { record } = await engine.dispatch(latest(), inputOfReport(event.state), { log });
        onRecord(record);
        if (!isOpen(record) || FINAL_AUTH_STATUSES.has(event.state.status)) break;
      }
    } catch (error) {
      if (signal.aborted) return;
      const errorKind = error instanceof AppError ? error.kind : "unexpected_error";
      // The core decides: a lost session ends the intent, a gateway down for a moment does not.
      const { record } = await engine.dispatch(latest(), { type: "callFailed", call: "follow", errorKind }, { log }).catch(() => ({ record: latest() }));
      onRecord(record);
      log.debug({ errorType: error instanceof AppError ? error.entry.type : undefined }, "provider event stream interrupted");
    }
    if (!isOpen(latest())) return;
    await sleep(backoff, undefined, { signal }).catch(() => {});
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }
}
