/**
 * The one change-event shape every source emits and every sink applies.
 * Close to Debezium's envelope (op/before/after/source/ts_ms) so its consumers understand ours.
 */

/**
 * c = insert, u = update, d = delete, r = snapshot read, t = truncate (Debezium's letters, with Debezium's meaning).
 *
 * A `t` event says: every row of its table that its source wrote before `source.position` is gone. Its
 * `key` is empty and `before`/`after` are null. On a change topic it is only ever a real TRUNCATE TABLE
 * (MySQL/MariaDB), which a Debezium consumer applies by emptying the table. The end of each table's
 * snapshot is marked by a `t` too (at the snapshot's position, which its rows carry), so that a fresh
 * snapshot taken after the log was lost also removes from our sinks the rows deleted in the lost log; but
 * that marker goes from the source stage straight to the repartition topic, which only our stages read
 * (topology/source.ts SnapshotItem `tableDone`). Topics carry a `t` to every partition (it has no row to
 * hash).
 */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/**
 * Column values in their canonical JavaScript form, shared by sources, serdes and sinks:
 * - integers up to 32 bits (signed or unsigned) and YEAR: number; 64-bit integers: bigint (never a lossy number)
 * - DECIMAL: string in plain decimal notation (exact)
 * - FLOAT/DOUBLE: number
 * - DATE 'YYYY-MM-DD', TIME '[-]HHH:MM:SS[.ffffff]', DATETIME 'YYYY-MM-DD HH:MM:SS[.ffffff]',
 *   TIMESTAMP the same in UTC: strings, so zero dates and out-of-range times survive unchanged
 * - CHAR/VARCHAR/TEXT, ENUM, JSON (serialised text): string; SET: string of comma-separated members
 * - BINARY/VARBINARY/BLOB, BIT: Buffer (BIT big-endian, as MySQL stores it)
 * - MongoDB documents: Extended JSON (canonical) strings in `before`/`after` under the key `doc`
 * - SQL NULL: null
 */
export type Value = null | number | bigint | string | boolean | Buffer;
/** A row image: column name → value. */
export type Row = Record<string, Value>;

/** One column of a TableSchema: its source type and what the sinks and the Avro schema need of it. */
export interface ColumnSchema {
  name: string;
  /** MySQL data type, lower case, without width: 'int', 'bigint', 'decimal', 'varchar', 'datetime', ... */
  type: string;
  unsigned?: boolean;
  nullable: boolean;
  /** DECIMAL precision, or fractional-second digits for TIME/DATETIME/TIMESTAMP. */
  precision?: number;
  scale?: number;
  /** Character length for CHAR/VARCHAR, byte length for BINARY/VARBINARY, bit count for BIT. */
  length?: number;
  charset?: string;
  /** ENUM and SET members, in declaration order. */
  values?: string[];
}

/** A table's columns, key and unique keys, as a source saw them for an event. */
export interface TableSchema {
  db: string;
  table: string;
  columns: ColumnSchema[];
  /** Primary-key column names in key order; empty when the table has none (a configured key may stand in). */
  primaryKey: string[];
  /** Unique keys other than the primary key, each a list of column names. */
  uniqueKeys: string[][];
}

/** Where an event comes from: connector, source, database, table and its totally ordered position. */
export interface SourceInfo {
  /** 'mysql' (also MariaDB) or 'mongodb'. */
  connector: 'mysql' | 'mongodb';
  /** The source's name in the pipeline config. */
  name: string;
  db: string;
  /** Table, or MongoDB collection. */
  table: string;
  /**
   * Totally ordered within one source: two events of one source compare with `comparePositions`.
   * Snapshot (`r`) events carry the position the stream resumes from, so every streamed event is newer.
   */
  position: string;
  /** Transaction id (GTID, binlog position of BEGIN, or MongoDB lsid+txnNumber), when there is one. */
  txId?: string;
  /** Commit time at the source, ms since epoch. */
  tsMs: number;
  snapshot: boolean;
}

/** One change of one row (document), the same shape for every source and close to Debezium's envelope; docs/types.md gives each column type's JavaScript value. */
export interface ChangeEvent {
  op: Op;
  /** Primary key (or MongoDB `_id`) column values. */
  key: Row;
  before: Row | null;
  after: Row | null;
  source: SourceInfo;
  /** Time the event was made by this process, ms since epoch. */
  tsMs: number;
  /** Schema of the table in force for this event; shared between events, never copied per event. */
  schema?: TableSchema;
  /**
   * Set by a routing operator (topology/operators/route-to-topic.ts): the topic the source stage writes
   * this event to instead of its source's change topic (and by the source stage on a snapshot end marker:
   * the repartition topic). Absent for almost every event.
   */
  topic?: string;
}

/**
 * What places a change in a partition: its op, its table and its row key. Every ChangeEvent is one; the
 * repartition stage reads only this much of a record when no operator follows `repartition()`.
 */
export interface RowIdentity {
  op: Op;
  key: Row;
  source: Pick<SourceInfo, 'db' | 'table'>;
}

/** Positions are built so that plain string order is source order (fixed-width fields). */
export function comparePositions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A `t` event (see Op): the rows of `source.table` that its source wrote before `source.position` are gone. A real truncate, or a snapshot's end marker. */
export function truncateEvent(source: SourceInfo, schema: TableSchema | undefined): ChangeEvent {
  const event: ChangeEvent = { op: 't', key: {}, before: null, after: null, source, tsMs: Date.now() };
  if (schema !== undefined) event.schema = schema;
  return event;
}
