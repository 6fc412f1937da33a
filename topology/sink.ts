import type { ChangeEvent } from './change-event.ts';

/** An event as a sink receives it, with where it came from (for the dead-letter topic and offsets). */
export interface SinkRecord {
  event: ChangeEvent;
  topic: string;
  partition: number;
  offset: string;
}

/** A record the target refused (a constraint, a value too long): it goes to the dead-letter topic with the reason. */
export interface RejectedRecord {
  record: SinkRecord;
  reason: string;
}

/** What `apply` did with a batch. */
export interface ApplyResult {
  /** Rows the target refused, for the dead-letter topic. */
  rejected: RejectedRecord[];
  /**
   * Records the position rule left out: the target already holds their key at their position or a newer
   * one, or a newer event of the same batch replaced them. Optional: a sink that does not tell has them
   * counted as applied.
   */
  skipped?: SinkRecord[];
}

/**
 * An idempotent sink (docs/design.md, idempotent apply; docs/sinks.md). `apply` gets one partition's batch in
 * offset order, applies it in one database transaction and resolves after the commit; the caller
 * commits the consumer offset only then. Rows the target rejects are returned for the dead-letter
 * topic and the rest of the batch still applies. A target that is down rejects the promise with a
 * retriable CdcError; the caller retries the same batch.
 */
export interface SinkConnector {
  readonly name: string;
  /** `context` tells the sink where its records come from (a sink started without one purges no tombstones). */
  start(context?: SinkContext): Promise<void>;
  apply(batch: readonly SinkRecord[]): Promise<ApplyResult>;
  close(): Promise<void>;
}

/** What SinkRunner tells a sink at start: its repartition topic, and where the sink's background work reports. */
export interface SinkContext {
  /** The repartition topic the sink applies. */
  topic: string;
  /** Its partition count (fixed once the topic exists). */
  partitions: number;
  /** Tombstones purged from a target table (the `cdc_sink_tombstones_purged_total` metric). */
  purged(table: string, count: number): void;
  /** A background task of the sink failed; it tries again later. */
  warn(message: string, error: unknown): void;
}

/**
 * How much of a partition a sink gets in one `apply` (one target transaction). What a sink process holds
 * grows with it: every partition it owns applies one batch at a time, decoded, with its statements built.
 */
export interface SinkBatchLimits {
  /** Records per batch. */
  maxBatchRows: number;
  /**
   * Bytes per batch, counted as the records' keys and values read from Kafka (decoded, a record takes
   * several times that). A single record larger than this is a batch of its own. The sink's consumer
   * fetches this much of a partition at a time, and never less than a whole record batch (sink-runner.ts).
   */
  maxBatchBytes: number;
}

export const DEFAULT_SINK_BATCH_LIMITS: SinkBatchLimits = { maxBatchRows: 2_000, maxBatchBytes: 96 * 1024 };
