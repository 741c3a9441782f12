import type { Logger } from "pino";
import type { IntentRecord } from "../../store/store.ts";
import { interactiveStateOf, isOpen } from "./intent-state.ts";

/** How much slower an intent nobody waits on is re-read. */
const IDLE_POLL_FACTOR = 5;

/** What a monitor needs from the flow that owns it. */
export interface MonitorHost {
  readonly pollMs: number;
  readonly log: Logger;
  now(): Date;
  /** The intent as the store holds it now. */
  read(intent: IntentRecord): Promise<IntentRecord | undefined>;
  /** An open intent past its expiry: reconciled with the gateway, else closed EXPIRED. Returns the intent after. */
  expireIfDue(intent: IntentRecord, log: Logger): Promise<IntentRecord>;
  /** Follows the gateway's events of the intent until it closes or `signal` aborts, applying each to the store. */
  follow(monitor: IntentMonitor, signal: AbortSignal): Promise<void>;
  forget(monitor: IntentMonitor): void;
}

/**
 * One per open intent per process: the single place this process learns how an intent
 * changes, whoever caused the change (this replica, another one on the same database, the
 * gateway). It re-reads the intent from the store every pollMs (at once when woken), closes it
 * when it is past its expiry, and, once asked to, follows the gateway's event stream. Waiting
 * ConnectAccount / SolveCheckpoint calls and WatchAccount streams listen to it. It ends when
 * the intent closes, or when the service stops.
 */
export class IntentMonitor {
  latest: IntentRecord;
  /** True once the intent closed or the service stopped. */
  finished = false;
  readonly log: Logger;
  private readonly host: MonitorHost;
  private readonly listeners = new Set<(intent: IntentRecord) => void>();
  private readonly stopper = new AbortController();
  private following = false;
  private woken = false;
  private wakeSleeper: (() => void) | undefined;

  constructor(host: MonitorHost, intent: IntentRecord) {
    this.host = host;
    this.latest = intent;
    this.log = host.log.child({ intentId: intent.id, accountId: intent.accountId });
  }

  get id(): string {
    return this.latest.id;
  }

  /** Aborts when the monitor ends. */
  get signal(): AbortSignal {
    return this.stopper.signal;
  }

  start(): void {
    this.poll().catch((err: unknown) => this.log.error({ err }, "intent monitor stopped on an unexpected error"));
  }

  /** Starts following the gateway (once): only after the gateway knows the intent. */
  followGateway(): void {
    if (this.following || this.finished || !interactiveStateOf(this.latest)) return;
    this.following = true;
    this.host.follow(this, this.stopper.signal).catch((err: unknown) => this.log.error({ err }, "gateway follower stopped on an unexpected error"));
  }

  /** Re-read the store now (something in this process changed the intent). */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  /** Called with the intent after every change. Returns the unsubscribe function. */
  onChange(listener: (intent: IntentRecord) => void): () => void {
    this.listeners.add(listener);
    // Out of an idle sleep: the newcomer waits at the fast pace.
    if (this.listeners.size === 1) this.wake();
    return () => this.listeners.delete(listener);
  }

  /** Takes a fresher record of the intent; older reads and anything after the end are ignored. */
  update(intent: IntentRecord): void {
    if (this.finished && !isOpen(this.latest)) return;
    if (!isNewer(intent, this.latest)) return;
    this.latest = intent;
    for (const listener of [...this.listeners]) listener(intent);
    if (!isOpen(intent)) this.finish();
  }

  /** The service is stopping: stop polling and following; listeners see `finished` with an open intent. */
  stop(): void {
    this.finish();
    for (const listener of [...this.listeners]) listener(this.latest);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopper.abort();
    this.wakeSleeper?.();
    this.host.forget(this);
  }

  private async poll(): Promise<void> {
    while (!this.finished) {
      // Someone waiting (a watch, a call) wants changes at once; a lone follower only looks
      // out for ends decided elsewhere (a cancel on another replica, the expiry), so less often.
      await this.sleep(this.listeners.size > 0 ? this.host.pollMs : this.host.pollMs * IDLE_POLL_FACTOR);
      if (this.finished) return;
      try {
        let intent = await this.host.read(this.latest);
        if (intent && isOpen(intent) && intent.expiresAt.getTime() <= this.host.now().getTime()) intent = await this.host.expireIfDue(intent, this.log);
        if (intent) this.update(intent);
      } catch (err) {
        // The store or the gateway is down for a moment: the next round tries again.
        this.log.warn({ err }, "could not refresh the intent");
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}

/** Closed beats open; among open records the checkpoint sequence, then the update time, decide. */
function isNewer(candidate: IntentRecord, current: IntentRecord): boolean {
  if (!isOpen(current)) return false;
  if (!isOpen(candidate)) return true;
  const seqA = interactiveStateOf(candidate)?.seq ?? 0;
  const seqB = interactiveStateOf(current)?.seq ?? 0;
  if (seqA !== seqB) return seqA > seqB;
  if (candidate.status !== current.status) return candidate.status === "CHECKPOINT";
  return candidate.updatedAt.getTime() > current.updatedAt.getTime() || candidate.expiresAt.getTime() !== current.expiresAt.getTime();
}
