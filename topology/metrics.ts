import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeEvent } from './change-event.ts';
import { refusalHeaders } from './dead-letter.ts';
import { RingBuffer } from './ring-buffer.ts';
import type { IncrementalSnapshotProgress, SourceToken, TableSnapshotProgress } from './token.ts';
import type { OutgoingRecord } from './transport.ts';

/** What a source is doing: reading its snapshot, streaming its log, or stopped. */
export type SourcePhase = 'snapshot' | 'streaming' | 'stopped';

/** Snapshot progress of one table: rows read and the server's estimate. */
export interface TableProgress {
  rows: number;
  /** The server's estimate of the table's rows when its snapshot began (statistics, not a count). */
  estimate?: number;
  done: boolean;
}

/** A source's live state, as `status` and the metrics show it. */
export interface SourceState {
  phase: SourcePhase;
  /** A table, named as the source's `tables()` names it → progress of its snapshot, in the order the source listed them. */
  tables: Map<string, TableProgress>;
  /** ms since epoch of the last token this process committed for the source. */
  tokenWrittenAt?: number;
  /** The position of that token: where the source would resume. */
  position?: string;
  /** Incremental snapshots not finished, as of the latest token handed to the writer (the first is being read). */
  incremental: IncrementalSnapshotProgress[];
}

export interface SinkState {
  /** Partitions of the repartition topic the sink owns in this process; null before its first assignment. */
  partitions: number | null;
  /** The latest failure the sink retried (a target away, a failed write), with its error's message. */
  lastError?: { message: string; at: number };
}

/** A consumer group's lag on one partition, as last measured. */
export interface PartitionLagSample {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * One record (or refused source event) sent to the dead-letter topic, kept for the console: the bytes as
 * they were dead-lettered, decoded only when someone looks (cli/console/dead-letter-view.ts).
 */
export interface DeadLetterSample {
  /** ms since epoch. */
  at: number;
  stage: string;
  reason: string;
  /** The topic, partition and offset it was read from; absent for an event refused before any topic. */
  origin?: { topic: string; partition: number; offset: string };
  /** The record's bytes (copied: they must not hold a consumer's whole fetch buffer). */
  record?: { key: Buffer | null; value: Buffer | null };
  /** The event itself, when it was refused in the source stage and never encoded as a record. */
  event?: ChangeEvent;
}

/** How many dead letters the console shows: the newest, whatever the uptime. */
export const RECENT_DEAD_LETTERS = 20;

/** What `/health` answers: healthy once every source of the process streams and every sink has its partitions. */
export interface Health {
  /** Every source this process runs streams, and every sink has its partitions assigned. */
  ready: boolean;
  sources: Record<string, SourcePhase>;
  /** Partitions of the repartition topic each sink owns in this process; null before its first assignment. */
  sinks: Record<string, number | null>;
}

/**
 * What a running topology reports: Prometheus metrics (one registry per topology, so two topologies in
 * one process do not mix) and the live state behind the health endpoint and snapshot progress bars.
 * Stages report per batch, never per event, so the hot path pays a few label lookups per batch.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  readonly sources = new Map<string, SourceState>();
  readonly sinks = new Map<string, SinkState>();
  /** Consumer group → `topic/partition` → its latest lag. */
  readonly lags = new Map<string, Map<string, PartitionLagSample>>();
  readonly recentDeadLetters = new RingBuffer<DeadLetterSample>(RECENT_DEAD_LETTERS);
  /** Records dead-lettered since start, all stages. */
  deadLetterCount = 0;
  /** Events in / out per stage since start, for summaries (the counters hold the same, for Prometheus). */
  private readonly stageTotals = new Map<string, { in: number; out: number }>();

  private readonly eventsIn = this.counter('cdc_events_in_total', 'Events into a stage (stage: source:<name>, repartition, sink:<name>)', ['stage']);
  private readonly eventsOut = this.counter('cdc_events_out_total', 'Events out of a stage: written to Kafka, or applied to a sink target', ['stage']);
  private readonly snapshotRows = this.counter('cdc_snapshot_rows_total', 'Rows (documents) read by snapshots', ['source', 'table']);
  private readonly deadLetters = this.counter('cdc_dead_letter_total', 'Records sent to the dead-letter topic', ['stage']);
  private readonly applySeconds = new Histogram({
    name: 'cdc_sink_apply_seconds',
    help: 'Time to apply one partition batch in one target transaction, retries included',
    labelNames: ['sink'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly consumerLag = this.gauge('cdc_consumer_lag', 'Records between the committed offset and the end of a partition', ['group', 'topic', 'partition']);
  private readonly tokenCommittedAt = this.gauge('cdc_token_commit_timestamp_seconds', 'When a source last committed its token (age: time() - this)', ['source']);
  private readonly streaming = this.gauge('cdc_source_streaming', '1 while a source streams its log, 0 while it snapshots or runs elsewhere', ['source']);
  private readonly kafkaRetries = this.counter('cdc_kafka_retried_total', 'Kafka requests that failed as a healthy cluster expects and KafkaJS retried, logged at debug (reason: the Kafka error)', ['reason']);
  private readonly tombstonesPurgedTotal = this.counter('cdc_sink_tombstones_purged_total', 'Tombstones a sink purged from a target table once no record that needs them can arrive (docs/sinks.md)', ['sink', 'table']);
  private readonly heartbeats = this.counter('cdc_source_heartbeats_total', 'Tokens a source committed at log positions without captured changes, to keep an idle token up with the log (heartbeat setting)', ['source']);
  private readonly incrementalRows = this.gauge('cdc_incremental_snapshot_rows', 'Rows an incremental snapshot has emitted so far, per table not finished yet', ['source', 'table']);
  private readonly incrementalEstimate = this.gauge('cdc_incremental_snapshot_estimated_rows', "The server's row estimate of a table being snapshotted incrementally", ['source', 'table']);
  private readonly notifications = this.counter('cdc_snapshot_notifications_total', 'Snapshot notifications a source sent (type: docs/notifications.md)', ['source', 'type']);
  private readonly assigned = this.gauge('cdc_sink_assigned_partitions', 'Partitions of the repartition topic a sink owns in this process', ['sink']);

  sourcePhase(source: string, phase: SourcePhase): void {
    this.sourceState(source).phase = phase;
    this.streaming.set({ source }, phase === 'streaming' ? 1 : 0);
  }

  /** A snapshot (re)starts: `progress` is what the token says is done, `estimates` the servers' row estimates. */
  snapshotPlanned(source: string, progress: Record<string, TableSnapshotProgress>, estimates: Record<string, number>): void {
    const { tables } = this.sourceState(source);
    for (const table of new Set([...Object.keys(estimates), ...Object.keys(progress)])) {
      tables.set(table, { rows: progress[table]?.rows ?? 0, estimate: estimates[table], done: progress[table]?.done ?? false });
    }
  }

  /** The incremental snapshots a source has not finished, as its newest token records them. */
  incrementalProgress(source: string, pending: readonly IncrementalSnapshotProgress[]): void {
    const state = this.sourceState(source);
    for (const { table } of state.incremental) {
      this.incrementalRows.remove({ source, table });
      this.incrementalEstimate.remove({ source, table });
    }
    state.incremental = pending.map((request) => ({ ...request }));
    for (const { table, rows, estimate } of pending) {
      this.incrementalRows.set({ source, table }, rows);
      if (estimate !== undefined) this.incrementalEstimate.set({ source, table }, estimate);
    }
  }

  /** A source sent a snapshot notification (topology/notifications.ts). */
  notified(source: string, type: string): void {
    this.notifications.inc({ source, type });
  }

  /** A source committed a heartbeat (topology/heartbeat.ts). */
  heartbeat(source: string): void {
    this.heartbeats.inc({ source });
  }

  /** A source's batch and its token are durable. */
  sourceWrote(source: string, events: readonly ChangeEvent[], token: SourceToken | undefined): void {
    const state = this.sourceState(source);
    this.eventsOut.inc({ stage: `source:${source}` }, events.length);
    this.total(`source:${source}`).out += events.length;
    let table = '';
    let rows = 0;
    let lastSource: ChangeEvent['source'] | undefined;
    const refused: ChangeEvent[] = [];
    // Snapshot batches come table by table: count runs of one table, one label lookup per run. The rows
    // of one snapshot chunk share one SourceInfo object, so the name is worked out once per chunk.
    for (const event of events) {
      if (event.topic !== undefined && refusalHeaders(event) !== undefined) refused.push(event);
      if (event.op !== 'r') continue;
      if (event.source !== lastSource) {
        lastSource = event.source;
        const name = snapshotTableName(state, event);
        if (name !== table) {
          this.countSnapshotRows(source, state, table, rows);
          table = name;
          rows = 0;
        }
      }
      rows++;
    }
    this.countSnapshotRows(source, state, table, rows);
    if (refused.length > 0) this.sourceRefused(source, refused);
    if (token !== undefined) {
      state.tokenWrittenAt = token.writtenAt;
      state.position = token.position;
      this.tokenCommittedAt.set({ source }, token.writtenAt / 1000);
      for (const [name, progress] of Object.entries(token.snapshot ?? {})) {
        const tableState = state.tables.get(name);
        if (tableState) tableState.done = progress.done;
      }
    }
  }

  /** A stage consumed `consumed` records and passed on `produced` events. */
  batch(stage: string, consumed: number, produced: number): void {
    this.eventsIn.inc({ stage }, consumed);
    this.eventsOut.inc({ stage }, produced);
    const total = this.total(stage);
    total.in += consumed;
    total.out += produced;
  }

  /** Events in / out per stage since start. */
  totals(): Record<string, { in: number; out: number }> {
    return Object.fromEntries(this.stageTotals);
  }

  applied(sink: string, seconds: number): void {
    this.applySeconds.observe({ sink }, seconds);
  }

  tombstonesPurged(sink: string, table: string, count: number): void {
    if (count > 0) this.tombstonesPurgedTotal.inc({ sink, table }, count);
  }

  /** A stage sent these records (topology/dead-letter.ts made them) to the dead-letter topic. */
  deadLettered(stage: string, records: readonly OutgoingRecord[]): void {
    if (records.length === 0) return;
    this.deadLetters.inc({ stage }, records.length);
    this.deadLetterCount += records.length;
    const at = Date.now();
    for (const { key, value, headers = {} } of records.slice(-RECENT_DEAD_LETTERS)) {
      this.recentDeadLetters.push({
        at,
        stage: headers['cdc.dlq.stage'] ?? stage,
        reason: headers['cdc.dlq.reason'] ?? '',
        origin: { topic: headers['cdc.dlq.topic'] ?? '', partition: Number(headers['cdc.dlq.partition']), offset: headers['cdc.dlq.offset'] ?? '' },
        record: { key: key && Buffer.from(key), value: value && Buffer.from(value) },
      });
    }
  }

  sinkAssigned(sink: string, partitions: number | null): void {
    this.sinkState(sink).partitions = partitions;
    this.assigned.set({ sink }, partitions ?? 0);
  }

  /** A sink retries after `error`. */
  sinkFailed(sink: string, error: unknown): void {
    this.sinkState(sink).lastError = { message: error instanceof Error ? error.message : String(error), at: Date.now() };
  }

  kafkaRetried(reason: string): void {
    this.kafkaRetries.inc({ reason });
  }

  lag(group: string, topic: string, partition: number, records: number): void {
    this.consumerLag.set({ group, topic, partition: String(partition) }, records);
    let partitions = this.lags.get(group);
    if (partitions === undefined) this.lags.set(group, (partitions = new Map()));
    partitions.set(`${topic}/${partition}`, { topic, partition, lag: records });
  }

  health(): Health {
    const sources = Object.fromEntries([...this.sources].map(([name, state]) => [name, state.phase]));
    const sinks = Object.fromEntries([...this.sinks].map(([name, state]) => [name, state.partitions]));
    const ready = Object.values(sources).every((phase) => phase !== 'snapshot') && Object.values(sinks).every((partitions) => partitions !== null);
    return { ready, sources, sinks };
  }

  private countSnapshotRows(source: string, state: SourceState, table: string, rows: number): void {
    if (rows === 0) return;
    this.snapshotRows.inc({ source, table }, rows);
    // The table progress is the initial snapshot's: r events of a table whose snapshot is done, or that
    // arrive while streaming, are an incremental snapshot's (its own progress is incrementalProgress).
    const progress = state.tables.get(table);
    if (progress?.done === true) return;
    if (progress) progress.rows += rows;
    else if (state.phase === 'snapshot') state.tables.set(table, { rows, done: false });
  }

  /** Events the source stage's operators refused, written to the dead-letter topic with the batch. */
  private sourceRefused(source: string, events: readonly ChangeEvent[]): void {
    this.deadLetters.inc({ stage: `source:${source}` }, events.length);
    this.deadLetterCount += events.length;
    const at = Date.now();
    for (const event of events.slice(-RECENT_DEAD_LETTERS)) {
      const headers = refusalHeaders(event)!;
      this.recentDeadLetters.push({ at, stage: headers['cdc.dlq.stage']!, reason: headers['cdc.dlq.reason']!, event });
    }
  }

  private total(stage: string): { in: number; out: number } {
    let total = this.stageTotals.get(stage);
    if (total === undefined) {
      total = { in: 0, out: 0 };
      this.stageTotals.set(stage, total);
    }
    return total;
  }

  private sourceState(source: string): SourceState {
    let state = this.sources.get(source);
    if (state === undefined) {
      state = { phase: 'snapshot', tables: new Map(), incremental: [] };
      this.sources.set(source, state);
    }
    return state;
  }

  private sinkState(sink: string): SinkState {
    let state = this.sinks.get(sink);
    if (state === undefined) this.sinks.set(sink, (state = { partitions: null }));
    return state;
  }

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}

/**
 * The name a source's snapshot progress uses for an event's table: `tables()` names MySQL tables
 * `db.table` and MongoDB collections by their name alone (one database per source).
 */
function snapshotTableName(state: SourceState, event: ChangeEvent): string {
  const qualified = `${event.source.db}.${event.source.table}`;
  return !state.tables.has(qualified) && state.tables.has(event.source.table) ? event.source.table : qualified;
}
