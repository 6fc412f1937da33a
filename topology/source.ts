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
  /** Step 4: streams the log from `from`. */
  stream(from: LogPosition, flow: FlowControl): Observable<StreamItem>;
  close(): Promise<void>;
}
