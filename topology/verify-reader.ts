import type { ColumnSchema, Row, SourceInfo, Value } from './change-event.ts';

/**
 * What `cdc verify` reads. Each connector has its reader (connectors/<system>/verify-reader.ts), which
 * gives rows as the canonical values of change-event.ts, the values its source emits or its sink
 * applied, so that any source compares with any target value by value.
 */

/** A captured source table (MongoDB: collection), as its source describes it. */
export interface VerifyTable {
  /** `db.table` (`db.collection`): the name sinks' include, exclude and `tables` use. */
  name: string;
  db: string;
  table: string;
  /** The system of the source: how its rows look (columns, or MongoDB's `_id` and `doc`). */
  connector: SourceInfo['connector'];
  /** Key columns in key order: the primary key (or the configured one), MongoDB's `_id`; empty: none. */
  keyColumns: string[];
  /** The compared columns, key columns included. MongoDB: `_id` (canonical Extended JSON) and `doc`. */
  columns: ColumnSchema[];
  /** The source's estimate of its row count, for progress only. */
  estimatedRows?: number;
}

/** Rows after `after` (exclusive; none: from the start) up to `upTo` (inclusive; none: to the end), by key. */
export interface KeyRange {
  after?: readonly Value[];
  upTo?: readonly Value[];
}

/** A source's side: its captured tables and their rows in key order. */
export interface VerifySourceReader {
  /** The tables the source captures, in name order. */
  tables(): Promise<VerifyTable[]>;
  /** Up to `limit` rows with keys after `after`, in the source's key order (keyset pagination). */
  chunk(table: VerifyTable, after: readonly Value[] | undefined, limit: number): Promise<Row[]>;
  close(): Promise<void>;
}

/** Where a sink keeps a source table, or why it keeps none. */
export type TargetLocation = { name: string; exists: boolean } | { refused: string };

/** A sink's side: the rows it wrote for a source table. */
export interface VerifyTargetReader {
  /** The target table (collection) of `table`: its name and whether it exists; `refused` when this sink takes no such table. */
  locate(table: VerifyTable): Promise<TargetLocation>;
  /**
   * The target's rows of `table` in a key range (bounds as the source gave them), with the source's
   * columns as canonical values. A column the target lacks is absent from the row; the sink's own
   * columns (its position) are left out.
   */
  rows(table: VerifyTable, range: KeyRange): Promise<Row[]>;
  close(): Promise<void>;
}
