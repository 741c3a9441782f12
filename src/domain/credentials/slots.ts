/**
 * At most `size` holders at once; the others queue in arrival order. A wait ends with the
 * waiter's signal (its reason is thrown), so no one queues past its deadline.
 */
export class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves with the slot's release (call it once) when one is free. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const granted = () => {
        signal.removeEventListener("abort", gaveUp);
        resolve();
      };
      const gaveUp = () => {
        this.queue.splice(this.queue.indexOf(granted), 1);
        reject(signal.reason as Error);
      };
      this.queue.push(granted);
      signal.addEventListener("abort", gaveUp, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, or becomes free.
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    };
  }
}
