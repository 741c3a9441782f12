import type { Store } from "../store/store.ts";
import type { MetricsSink } from "./metrics.ts";
import { otelApi } from "./otel-api.ts";
import { observe } from "./spans.ts";

/** Outcomes that are answers, not failures of the store: a conflict on a unique key. */
const ANSWERS: ReadonlySet<string> = new Set(["ok", "already_exists"]);

/**
 * The store, with a span around each operation inside a traced call and a count of the
 * operations that failed (store_errors_total). Same object shape, same behaviour.
 */
export function observedStore(store: Store, metrics: MetricsSink): Store {
  const observed: Record<string, unknown> = { ...store };
  const system = store.kind === "postgres" ? "postgresql" : "sqlite";
  for (const [operation, original] of Object.entries(store)) {
    if (typeof original !== "function" || operation === "close") continue;
    const run = original as (...args: unknown[]) => Promise<unknown>;
    observed[operation] = (...args: unknown[]) =>
      observe(`store ${operation}`, { "db.system.name": system, "db.operation.name": operation }, () => run.apply(store, args), (outcome) => {
        if (!ANSWERS.has(outcome)) metrics.storeError(operation, outcome);
      });
  }
  return observed as unknown as Store;
}

/**
 * The same store with every operation run outside any trace: for work no call asked for
 * (health checks, webhook deliveries) and for the polls of a long-lived stream, which would
 * otherwise add a span to the stream's trace every poll for as long as it stays open.
 */
export function untracedStore(store: Store): Store {
  const untraced: Record<string, unknown> = { ...store };
  for (const [operation, original] of Object.entries(store)) {
    if (typeof original !== "function") continue;
    const run = original as (...args: unknown[]) => unknown;
    untraced[operation] = (...args: unknown[]) => {
      // With tracing off there is no context to leave.
      const api = otelApi();
      return api ? api.context.with(api.ROOT_CONTEXT, () => run.apply(store, args)) : run.apply(store, args);
    };
  }
  return untraced as unknown as Store;
}
