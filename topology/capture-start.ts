import { TopologyStoppedError } from './errors.ts';

interface Latch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Per source, whether capture has begun in this process: its runner holds a durable start position (its
 * first token committed, or a stored token it resumes from), so a change committed on the source from now
 * on is captured. What RunningTopology.capturing() waits for. Once begun, it stays begun: the token is
 * durable, and whichever process runs the source later resumes from it.
 */
export class CaptureStarts {
  private readonly latches = new Map<string, Latch>();

  constructor(
    private readonly pipeline: string,
    sources: readonly string[],
  ) {
    for (const source of sources) {
      let latch!: Omit<Latch, 'promise'>;
      const promise = new Promise<void>((resolve, reject) => (latch = { resolve, reject }));
      // A latch nobody waits on must not become an unhandled rejection when the topology stops.
      promise.catch(() => {});
      this.latches.set(source, { promise, ...latch });
    }
  }

  /** Source `source` holds a durable start position in this process. */
  begun(source: string): void {
    this.latches.get(source)?.resolve();
  }

  /** Resolves once capture has begun for every one of `sources` (names this was made with). */
  async wait(sources: readonly string[]): Promise<void> {
    await Promise.all(sources.map((source) => this.latches.get(source)!.promise));
  }

  /**
   * The topology stops: every source whose capture has not begun rejects its waiters with `error` (the
   * one that stopped the topology), or after a clean stop with a TopologyStoppedError naming it.
   */
  stop(error?: unknown): void {
    for (const [source, latch] of this.latches) {
      latch.reject(error ?? new TopologyStoppedError(`pipeline ${this.pipeline} stopped before source ${source} began capturing in this process`));
    }
  }
}
