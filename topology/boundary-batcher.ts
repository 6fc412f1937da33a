import type { ChangeEvent } from './change-event.ts';
import type { FlowControl } from './flow-control.ts';
import type { OperatorStage } from './operator-stage.ts';
import type { SourceToken } from './token.ts';
import type { BatchWriter } from './change-writer.ts';

/**
 * Turns a source's events and boundaries (transaction commits, finished snapshot chunks) into batched
 * writes, one in flight at a time so order holds. A batch ends at the latest boundary seen, and carries
 * that boundary's token, so a token is never written before the events it covers. Events after the last
 * boundary wait for the next one, unless they fill a whole batch (a huge source transaction), which is
 * then written without a token: on a crash those are written again from the older token (at least once).
 *
 * Memory: every event held here counts in FlowControl until its write is acknowledged; the connector
 * stops reading while it is paused.
 */
export class BoundaryBatcher {
  private pending: ChangeEvent[] = [];
  /** pending[0, covered) is covered by `token`. */
  private covered = 0;
  private token: SourceToken | undefined;
  private inFlight: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly writer: BatchWriter,
    private readonly flow: FlowControl,
    private readonly stage: OperatorStage,
    private readonly maxBatch: number,
    /** Told once when a write fails; the caller stops the source. */
    private readonly onFailure: (error: unknown) => void,
  ) {}

  event(event: ChangeEvent): void {
    const before = this.pending.length;
    this.stage.feed(event, this.pending);
    this.flow.acquire(this.pending.length - before);
    if (this.pending.length - this.covered >= this.maxBatch) this.flush();
  }

  boundary(token: SourceToken): void {
    this.token = token;
    this.covered = this.pending.length;
    this.flush();
  }

  /** Resolves once everything covered by a token is written; rejects with a write's error. */
  async settled(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.failure) throw this.failure.error;
  }

  private flush(): void {
    if (this.inFlight !== undefined || this.failure) return;
    let events: ChangeEvent[];
    let token: SourceToken | undefined;
    if (this.covered > this.maxBatch || (this.pending.length - this.covered >= this.maxBatch && this.covered === 0)) {
      events = this.pending.splice(0, this.maxBatch);
      this.covered = Math.max(0, this.covered - this.maxBatch);
    } else if (this.token !== undefined) {
      events = this.pending.splice(0, this.covered);
      token = this.token;
      this.token = undefined;
      this.covered = 0;
    } else {
      return;
    }
    this.inFlight = this.writer.write(events, token).then(
      () => {
        this.inFlight = undefined;
        this.flow.release(events.length);
        this.flush();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.failure = { error };
        this.onFailure(error);
      },
    );
  }
}
