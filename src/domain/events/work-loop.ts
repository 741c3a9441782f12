/**
 * Runs `round` every `everyMs` until stopped, one round at a time; a round that throws is
 * reported and the loop goes on. Rounds that found work run again at once.
 */
export class WorkLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  private readonly round: () => Promise<number>;
  private readonly everyMs: number;
  private readonly onError: (error: unknown) => void;

  constructor(round: () => Promise<number>, everyMs: number, onError: (error: unknown) => void) {
    this.round = round;
    this.everyMs = everyMs;
    this.onError = onError;
  }

  start(): void {
    if (this.everyMs <= 0) return;
    this.schedule(this.everyMs);
  }

  /** Waits for the round under way, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().then(
        (done) => this.schedule(done > 0 ? 0 : this.everyMs),
        (error: unknown) => {
          this.onError(error);
          this.schedule(this.everyMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }
}
