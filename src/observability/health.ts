import type { Logger } from "pino";

export type NotServingReason = "store_unreachable" | "draining";

/**
 * Whether this replica should get traffic: it is SERVING while its store answers and it is
 * not draining. A cheap ping (SELECT 1) every `intervalMs` follows the store; the gRPC health
 * service, the HTTP readiness endpoint and the store_up gauge all read this one state.
 */
export interface ServiceHealth {
  readonly serving: boolean;
  /** Why it is not serving; undefined while serving. */
  readonly reason: NotServingReason | undefined;
  readonly draining: boolean;
  /** Called on every change of `serving` (and once more on drain). */
  onChange(listener: () => void): void;
  /** Starts following the store. */
  start(): void;
  /** Not serving from now on, for good: the pings stop and every listener hears it at once. */
  drain(): void;
}

export interface ServiceHealthOptions {
  ping: () => Promise<void>;
  intervalMs: number;
  /** A ping that takes longer counts as a failure (a cut network may never answer). */
  timeoutMs: number;
  log: Logger;
}

export function createServiceHealth(options: ServiceHealthOptions): ServiceHealth {
  const listeners: (() => void)[] = [];
  let storeUp = true;
  let draining = false;
  let timer: NodeJS.Timeout | undefined;

  const changed = () => {
    for (const listener of listeners) listener();
  };

  const check = async () => {
    const up = await pingWithin(options.ping, options.timeoutMs).then(
      () => true,
      (err: unknown) => {
        if (storeUp) options.log.warn({ err }, "store unreachable: health NOT_SERVING");
        return false;
      },
    );
    if (draining) return;
    if (up && !storeUp) options.log.info("store reachable again: health SERVING");
    const flipped = up !== storeUp;
    storeUp = up;
    if (flipped) changed();
    schedule();
  };

  const schedule = () => {
    // One ping at a time: the next is planned once this one has answered or timed out.
    timer = setTimeout(() => void check(), options.intervalMs);
    // The pings alone never keep the process alive.
    timer.unref();
  };

  return {
    get serving() {
      return storeUp && !draining;
    },
    get reason() {
      if (draining) return "draining";
      return storeUp ? undefined : "store_unreachable";
    },
    get draining() {
      return draining;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    start() {
      if (timer === undefined && !draining) schedule();
    },
    drain() {
      if (draining) return;
      draining = true;
      clearTimeout(timer);
      changed();
    },
  };
}

async function pingWithin(ping: () => Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`store ping took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
