import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { AppError } from "../../../../errors/app-error.ts";
import type { IntentChangeListener, IntentRecord, Store } from "../../../../store/store.ts";
import { isOpen } from "../core/intent.ts";
import type { IntentEngine } from "./engine.ts";
import { follow } from "./follower.ts";

/** One open intent this process cares about: a waiting call, a watch, or a follower. */
export class TrackedIntent {
  latest: IntentRecord;
  /** "change" after every fresher copy, and when the hub stops. */
  readonly changes = new EventEmitter();
  /** True once the intent closed or the hub stopped. */
  finished = false;
  readonly ended = new AbortController();
  /** Aborts when something else ends the intent (a cancel, a restart, the expiry): calls waiting on the provider stop at once. */
  readonly interrupted = new AbortController();
  holds = 0;
  following = false;
  expiry: NodeJS.Timeout | undefined;

  constructor(record: IntentRecord) {
    this.latest = record;
    // Ten thousand watches are ten thousand listeners on ten thousand emitters, not one.
    this.changes.setMaxListeners(0);
  }
}

export interface HubDeps {
  store: Store;
  engine: IntentEngine;
  /** The slow safety net: every tracked intent is re-read this often, whatever the notifications said. */
  pollMs: number;
  now: () => Date;
  log: Logger;
}

/**
 * The process's one view of the open intents it cares about, kept fresh by the store's change
 * feed (LISTEN/NOTIFY across replicas, or the embedded store's emitter): a watcher costs an
 * entry and a listener, nothing while nothing happens. Each entry has one expiry timer;
 * one interval re-reads all entries in batches, as a safety net for missed notifications.
 */
export class IntentHub implements IntentChangeListener {
  private readonly deps: HubDeps;
  private readonly entries = new Map<string, TrackedIntent>();
  private unsubscribe: (() => void) | undefined;
  private poller: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Intents to re-read: notifications in one turn of the event loop become one batched read (a burst never floods the pool). */
  private readonly dirty = new Set<string>();
  private flushing = false;

  constructor(deps: HubDeps) {
    this.deps = deps;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Keeps `record`'s intent fresh until release(); the same entry for every holder. */
  hold(record: IntentRecord): TrackedIntent {
    const entry = this.entryFor(record);
    entry.holds++;
    return entry;
  }

  release(entry: TrackedIntent): void {
    entry.holds--;
    this.dropIfUnused(entry);
  }

  /** This process follows the provider side's events of the intent until it ends (the entry lives as long). */
  follow(record: IntentRecord): void {
    if (this.stopped || !isOpen(record)) return;
    const entry = this.entryFor(record);
    if (entry.following) return;
    entry.following = true;
    const log = this.deps.log.child({ intentId: record.id, accountId: record.accountId });
    follow(this.deps.engine, () => entry.latest, (r) => this.offer(r), entry.ended.signal, log).catch((err: unknown) => log.error({ err }, "follower stopped on an unexpected error"));
  }

  /** A copy of an intent written or read in this process: taken if fresher. */
  offer(record: IntentRecord): void {
    const entry = this.entries.get(record.id);
    if (!entry || entry.finished || record.revision <= entry.latest.revision) return;
    entry.latest = record;
    if (isOpen(record)) this.armExpiry(entry);
    else {
      if (record.status === "CANCELED" || record.status === "EXPIRED") entry.interrupted.abort(new AppError(record.status === "CANCELED" ? "operation_canceled" : "intent_expired"));
      this.finish(entry);
    }
    entry.changes.emit("change");
  }

  changed(intentId: string): void {
    const entry = this.entries.get(intentId);
    if (entry) this.refresh(entry);
  }

  resync(): void {
    for (const entry of this.entries.values()) this.refresh(entry);
  }

  /** Shutdown: entries end (holders see `finished` with an open intent), followers stop; the store keeps the state. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.poller);
    this.unsubscribe?.();
    for (const entry of [...this.entries.values()]) {
      this.finish(entry);
      entry.changes.emit("change");
    }
  }

  private entryFor(record: IntentRecord): TrackedIntent {
    let entry = this.entries.get(record.id);
    if (!entry) {
      entry = new TrackedIntent(record);
      if (this.stopped) {
        entry.finished = true;
        return entry;
      }
      this.entries.set(record.id, entry);
      this.unsubscribe ??= this.deps.store.changes.subscribe(this);
      this.poller ??= setInterval(() => void this.pollAll(), this.deps.pollMs).unref();
      this.armExpiry(entry);
      // It may have changed between the caller's read and this subscription.
      this.refresh(entry);
    } else {
      this.offer(record);
    }
    return entry;
  }

  private refresh(entry: TrackedIntent): void {
    this.dirty.add(entry.latest.id);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    while (this.dirty.size > 0) {
      const ids = [...this.dirty];
      this.dirty.clear();
      try {
        for (const record of await this.deps.store.getIntents(ids)) this.offer(record);
      } catch (err) {
        // The safety-net poll reads them again.
        this.deps.log.warn({ err, count: ids.length }, "could not refresh intents");
      }
    }
    this.flushing = false;
  }

  private async pollAll(): Promise<void> {
    if (this.entries.size === 0) return;
    try {
      for (const record of await this.deps.store.getIntents([...this.entries.keys()])) this.offer(record);
    } catch (err) {
      this.deps.log.warn({ err }, "safety-net poll of open intents failed");
    }
  }

  /** At the expiry, whoever tracks the intent steps the tick (the store settles who wins). */
  private armExpiry(entry: TrackedIntent): void {
    clearTimeout(entry.expiry);
    const delay = Math.max(0, entry.latest.expiresAt.getTime() - this.deps.now().getTime());
    entry.expiry = setTimeout(() => {
      const log = this.deps.log.child({ intentId: entry.latest.id });
      this.deps.engine
        .dispatch(entry.latest, { type: "expiry", probed: false }, { log })
        .then(({ record }) => {
          this.offer(record);
          if (isOpen(record) && record.revision === entry.latest.revision) this.armExpiry(entry);
        })
        .catch((err: unknown) => log.warn({ err }, "could not expire the intent"));
    }, Math.min(delay, 2 ** 31 - 1)).unref();
  }

  private finish(entry: TrackedIntent): void {
    if (entry.finished) return;
    entry.finished = true;
    clearTimeout(entry.expiry);
    entry.ended.abort();
    if (this.entries.get(entry.latest.id) === entry) this.entries.delete(entry.latest.id);
  }

  private dropIfUnused(entry: TrackedIntent): void {
    if (entry.holds > 0 || entry.following || entry.finished) return;
    clearTimeout(entry.expiry);
    this.entries.delete(entry.latest.id);
  }
}
