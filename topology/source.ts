import type { Observable } from 'rxjs';
import type { ChangeEvent, TableSchema } from './change-event.ts';
import type { FlowControl } from './flow-control.ts';
import type { SourceToken, TableSnapshotProgress } from './token.ts';

/** Where the log is now (step 1 of the token protocol), as it will be stored in a token. */
export interface LogPosition {
  position: string;
  resume: Record<string, unknown>;
}

/**
 * What a snapshot emits: rows as `r` events, a marker when a chunk is finished (so progress can be
 * stored), and when a table is read to its end, before the chunkDone that says so, its end marker: a `t`
 * event at the snapshot's position (change-event.ts truncateEvent with `snapshot: true`). The sinks
 * remove the rows older than it, which the snapshot did not find. It is not a change of the source, so it
 * goes to the repartition topic only, never to a change topic, where a Debezium consumer would read it as
 * a TRUNCATE TABLE.
 */
export type SnapshotItem =
  | { kind: 'row'; event: ChangeEvent }
  | { kind: 'tableDone'; marker: ChangeEvent }
  | { kind: 'chunkDone'; table: string; progress: TableSnapshotProgress };

/** What streaming emits: change events, and transaction boundaries (a token is only committed at one). */
export type StreamItem =
  | { kind: 'change'; event: ChangeEvent }
  /** `heartbeat`: a position that carries no captured change (topology/heartbeat.ts), committed to keep the token up with the log. */
  | { kind: 'commit'; position: LogPosition; heartbeat?: true }
  /** A schema change seen in the log, before the first event that uses it. */
  | { kind: 'schema'; schema: TableSchema };

/**
 * A source connector. The token protocol itself (open log → commit token → snapshot → stream) is run by
 * the topology (topology/source-runner.ts), once for every connector, so no connector can get it wrong.
 */
export interface SourceConnector {
  readonly name: string;
  readonly connector: 'mysql' | 'mongodb';
  /** Checks server settings and grants; throws SourceMisconfiguredError naming what to change. */
  check(): Promise<void>;
  /** Step 1: opens the log and returns the position streaming will start from. */
  openLog(): Promise<LogPosition>;
  /** True when the server still has the log from `token` on (false: binlog purged / history lost). */
  canResume(token: SourceToken): Promise<boolean>;
  /** Tables (collections) the snapshot covers, after include/exclude patterns. */
  tables(): Promise<string[]>;
  /** The server's row estimates per table (statistics, cheap), for snapshot progress; optional. */
  estimateRows?(tables: readonly string[]): Promise<Record<string, number>>;
  /** Step 3: reads the tables, resuming each from its progress; `r` events carry `from.position`. */
  snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl): Observable<SnapshotItem>;
  /**
   * Step 4: streams the log from `from`. A connector that takes incremental snapshots sets
   * `cursor.boundary` when the stream starts (see StreamCursor).
   */
  stream(from: LogPosition, flow: FlowControl, cursor?: StreamCursor): Observable<StreamItem>;
  /**
   * One chunk of an incremental snapshot (topology/incremental-snapshot.ts), read while the source streams:
   * at most `size` rows of `table` (`db.table`, or a MongoDB collection) in key order after the row whose
   * encoded key is `afterKey` (from the start when undefined) and, given `upToKey`, up to that key. Undefined when the table no longer exists.
   * Connectors without it cannot take incremental snapshots; a request for one is refused.
   */
  readChunk?(table: string, afterKey: string | undefined, size: number, upToKey?: string): Promise<IncrementalChunk | undefined>;
  /**
   * Splits `table` into key ranges of about `rowsPerRange` rows for a spread snapshot
   * (topology/spread-snapshot.ts): the encoded key ending each range but the last, and the table's end
   * marker at `from`. Undefined when the table no longer exists. Connectors without it (and without
   * readChunk) cannot spread a snapshot over processes.
   */
  splitTable?(table: string, rowsPerRange: number, from: LogPosition): Promise<SplitTable | undefined>;
  close(): Promise<void>;
}

/** A table split into key ranges: range i is (bounds[i-1], bounds[i]], the first from the start, the last to the end. */
export interface SplitTable {
  bounds: string[];
  /** The table's end marker (a `t` at the snapshot's position, as SnapshotItem `tableDone` carries it). */
  marker: ChangeEvent;
}

/**
 * What stream() tells the incremental snapshot about where it is. The incremental snapshot emits a chunk
 * only at a transaction boundary the stream has reached, so it needs to know that boundary even when the
 * stream has nothing to emit (the captured tables are idle, or the server is).
 */
export interface StreamCursor {
  /**
   * Set by the stream when it starts. Returns, when the stream is between two transactions, the log
   * position up to which it has emitted every change (with the resume data to restart there); undefined in
   * the middle of a transaction or while events it received wait to be emitted. Called rarely (while a
   * chunk waits), so it may build the position on each call.
   */
  boundary?: () => LogPosition | undefined;
}

/**
 * One chunk read by SourceConnector.readChunk. The read saw every change of the log at or before `low` and
 * none after `high`; a change of one of its rows within (low, high] may or may not be in it, so such rows
 * (and rows changed after `high` before the chunk goes into the stream) are dropped from the chunk and the
 * change stands for them (Netflix's DBLog watermarks). A read at one exact
 * log position (MariaDB's consistent snapshot with its binlog position) has `low` equal to `high`.
 */
export interface IncrementalChunk {
  /** The rows as `r` events (`source.snapshot` true), in key order; their position is set to `high` when they are emitted. */
  rows: ChangeEvent[];
  /** The encoded key of the last row, where the next chunk starts; undefined when the chunk is empty. */
  lastKey: string | undefined;
  /** Fewer rows than asked for: the table is read to its end. */
  done: boolean;
  /** Never before a change the stream has already emitted (it is read from the server after the read starts, and the server is ahead of any reader of its log). */
  low: string;
  high: string;
  /** The table's schema at the read, for the table's end marker (undefined for MongoDB collections). */
  schema?: TableSchema;
  /** The table's database (MongoDB: the database of the collection) and name, as events carry them. */
  db: string;
  tableName: string;
}
