import type { RejectedRecord, SinkConnector, SinkRecord } from '../../../topology/sink.ts';

/** A real sink with a record of what happened to its applies; it changes nothing about them. */
export class ObservedSink implements SinkConnector {
  /** Errors the applies rejected with, in order. */
  readonly failures: unknown[] = [];
  /** performance.now() when the first apply began. */
  firstApplyAt: number | undefined;
  private applyStarted: (() => void) | undefined;

  constructor(private readonly sink: SinkConnector) {}

  get name(): string {
    return this.sink.name;
  }

  start(): Promise<void> {
    return this.sink.start();
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  /** Resolves when the next apply begins. */
  nextApply(): Promise<void> {
    return new Promise((resolve) => (this.applyStarted = resolve));
  }

  async apply(batch: readonly SinkRecord[]): Promise<{ rejected: RejectedRecord[] }> {
    this.firstApplyAt ??= performance.now();
    this.applyStarted?.();
    this.applyStarted = undefined;
    try {
      return await this.sink.apply(batch);
    } catch (error) {
      this.failures.push(error);
      throw error;
    }
  }
}
