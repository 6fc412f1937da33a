import type { ChangeEvent } from './change-event.ts';
import type { FlowControl } from './flow-control.ts';
import type { OperatorStage, RefusedEvent } from './operator-stage.ts';
import type { SourceToken } from './token.ts';
import type { BatchWriter } from './change-writer.ts';

/** Where a source stage writes its snapshot end markers: the repartition topic, after that stage's operators. */
export interface MarkerRoute {
  topic: string;
  /** The operators placed after `repartition()` (a stage of their own: markers never pass the repartition stage). */
  stage: OperatorStage;
}

/**
 * Turns a source's events and boundaries (transaction commits, finished snapshot chunks) into batched
 * writes, one in flight at a time so order holds. A batch ends at the latest boundary within `maxBatch`
 * events and carries that boundary's token, so a token is never written before the events it covers and
 * the token keeps moving however far the source runs ahead of the writes. Events after the last boundary
 * wait for the next one, unless they fill a whole batch (a huge source transaction, a chunk larger than a
 * batch), which is then written without a token: on a crash those are written again from the older token
 * (at least once).
 *
 * Memory: every event held here counts in FlowControl until its write is acknowledged; the connector
 * stops reading while it is paused. Boundaries waiting here are at most one per held event.
 */
export class BoundaryBatcher {
  private pending: ChangeEvent[] = [];
  /** Boundaries not written yet, oldest first: pending[0, end) is covered by `token`. */
  private boundaries: Array<{ end: number; token: SourceToken; written?: Array<() => void> }> = [];
  private inFlight: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private readonly refused: RefusedEvent[] = [];

  constructor(
    private readonly writer: BatchWriter,
    private readonly flow: FlowControl,
    private readonly stage: OperatorStage,
    private readonly maxBatch: number,
    /** Told once when a write fails; the caller stops the source. */
    private readonly onFailure: (error: unknown) => void,
    /** What an event an operator refused (under its dead-letter policy) is written as, in its place. */
    private readonly deadLetterOf: (refused: RefusedEvent) => ChangeEvent,
    /** Where snapshot end markers go (`marker()`); undefined: nowhere (a topology without repartition). */
    private readonly markers?: MarkerRoute,
  ) {}

  event(event: ChangeEvent): void {
    const before = this.pending.length;
    this.stage.feed(event, this.pending, this.refused);
    if (this.refused.length > 0) {
      for (const refused of this.refused) this.pending.push(this.deadLetterOf(refused));
      this.refused.length = 0;
    }
    this.flow.acquire(this.pending.length - before);
    if (this.pending.length - (this.boundaries.at(-1)?.end ?? 0) >= this.maxBatch) this.flush();
  }

  /**
   * A snapshot end marker (topology/source.ts SnapshotItem `tableDone`): through the operators of both
   * stages, as a `t` passing the change topic would go, then to the repartition topic, batched with the
   * events around it (one Kafka transaction with its token when exactly-once). Outputs that are no longer
   * a `t` (an operator made a row of it) are dropped: a row must come from the source's log.
   */
  marker(marker: ChangeEvent): void {
    if (this.markers === undefined) return;
    const outputs: ChangeEvent[] = [];
    this.stage.feed(marker, outputs, this.refused);
    const routed: ChangeEvent[] = [];
    for (const output of outputs) this.markers.stage.feed(output, routed, this.refused);
    const before = this.pending.length;
    for (const output of routed) if (output.op === 't') this.pending.push({ ...output, topic: this.markers.topic });
    for (const refused of this.refused) this.pending.push(this.deadLetterOf(refused));
    this.refused.length = 0;
    this.flow.acquire(this.pending.length - before);
  }

  /** `written`: called once this token is durable (notifications that must not run ahead of what they announce). */
  boundary(token: SourceToken, written?: () => void): void {
    const last = this.boundaries.at(-1);
    // No event since the previous boundary: the newer token covers the same events.
    if (last !== undefined && last.end === this.pending.length) last.token = token;
    else this.boundaries.push({ end: this.pending.length, token });
    if (written !== undefined) (this.boundaries.at(-1)!.written ??= []).push(written);
    this.flush();
  }

  /** Resolves once everything covered by a token is written; rejects with a write's error. */
  async settled(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
    if (this.failure) throw this.failure.error;
  }

  private flush(): void {
    if (this.inFlight !== undefined || this.failure) return;
    let fitting = 0;
    while (fitting < this.boundaries.length && this.boundaries[fitting]!.end <= this.maxBatch) fitting++;
    let events: ChangeEvent[];
    let token: SourceToken | undefined;
    let written: Array<() => void> | undefined;
    if (fitting > 0) {
      const boundary = this.boundaries[fitting - 1]!;
      events = this.pending.splice(0, boundary.end);
      token = boundary.token;
      for (const { written: callbacks } of this.boundaries.splice(0, fitting)) if (callbacks) (written ??= []).push(...callbacks);
    } else if (this.boundaries.length > 0 || this.pending.length >= this.maxBatch) {
      events = this.pending.splice(0, this.maxBatch);
    } else {
      return;
    }
    for (const boundary of this.boundaries) boundary.end -= events.length;
    // The count, not the events, is what the acknowledgement needs: the write may let them go once encoded.
    const count = events.length;
    this.inFlight = this.writer.write(events, token).then(
      () => {
        this.inFlight = undefined;
        this.flow.release(count);
        if (written) for (const callback of written) callback();
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
