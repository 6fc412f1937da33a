/**
 * Backpressure for sources: RxJS has none, so a source checks `paused` after each emission and stops
 * reading its I/O (binlog socket, snapshot query stream, change-stream cursor) until `resumed()`.
 * The stage that holds events in flight (the producer awaiting acks) calls `acquire`/`release`.
 */
export class FlowControl {
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  constructor(
    /** Pause when this many events are in flight... */
    private readonly highWaterMark = 20_000,
    /** ...and resume when they fall to this many. */
    private readonly lowWaterMark = Math.floor(highWaterMark / 2),
  ) {}

  get paused(): boolean {
    return this.inFlight >= this.highWaterMark;
  }

  get pending(): number {
    return this.inFlight;
  }

  acquire(n = 1): void {
    this.inFlight += n;
  }

  release(n = 1): void {
    this.inFlight -= n;
    if (this.inFlight <= this.lowWaterMark && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves at once when not paused, else when in-flight events fall to the low-water mark. */
  resumed(): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
