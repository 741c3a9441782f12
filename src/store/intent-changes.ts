import type { IntentChangeListener, IntentChanges } from "./store.ts";

/**
 * The in-process fan-out of intent changes: what the embedded store announces after its own
 * writes, and what the PostgreSQL listener feeds with the notifications it receives. One per
 * store; subscribers are few (one hub per process), so a Set is all it needs.
 */
export class IntentChangeFeed implements IntentChanges {
  private readonly listeners = new Set<IntentChangeListener>();

  subscribe(listener: IntentChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribed(): boolean {
    return this.listeners.size > 0;
  }

  changed(intentId: string): void {
    for (const listener of this.listeners) listener.changed(intentId);
  }

  resync(): void {
    for (const listener of this.listeners) listener.resync();
  }
}
