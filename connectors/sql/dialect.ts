import type { ColumnSchema, Value } from '../../topology/change-event.ts';
import type { ComparableType } from './column-type.ts';

/**
 * One connection of a SQL target, inside which the sink runs its transaction. Rows it returns carry
 * canonical values (64-bit integers as bigint, temporal values as strings), so keys read back from
 * the target compare with keys from events.
 */
export interface SqlConnection {
  /** Runs one statement; values travel in `params`, or as the dialect's `literal`s, never as text from anywhere else. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs one statement that changes rows; resolves to how many it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Gives the connection back; `broken` when it failed and must not be reused. */
  release(broken: boolean): void;
}

/** A column as the target has it: name, full SQL type as the target spells it, and whether it takes NULL. */
export interface TargetColumn {
  name: string;
  sqlType: string;
  nullable: boolean;
}

/** What differs between SQL targets. Everything else (the apply algorithm) is in sql-sink.ts, once. */
export interface SqlDialect {
  /** Quotes an identifier, escaping the quote character: no name from an event is ever trusted. */
  quote(identifier: string): string;
  /** The table as the sink's statements name it (schema-qualified where the target has schemas). */
  qualified(table: string): string;
  /** The text of the n-th (1-based) statement parameter. */
  placeholder(index: number): string;
  /** Most parameters one statement may carry. */
  readonly maxParams: number;
  /** Longest identifier the target accepts. */
  readonly maxIdentifierLength: number;
  /** Canonical value (topology/change-event.ts) → parameter value for a column of this type. */
  toParam(value: Value, column: ColumnSchema | undefined): unknown;
  /**
   * Where the target's client itself writes parameters into the statement's text (MySQL's text protocol,
   * which mysql2 fills in client-side), the literal it writes for a parameter value: the sink's row
   * statements then carry their values inline, escaped once by the same code, rather than as placeholders
   * the client parses the statement again to fill in. Absent: parameters (PostgreSQL's are the server's).
   */
  literal?(param: unknown): string;
  /** SQL type for a MySQL column of the source (the type-mapping table of each dialect). */
  columnType(column: ColumnSchema): string;
  /** A SQL type of this target (information_schema's spelling or columnType's) as the widening rule compares it. */
  comparableType(sqlType: string): ComparableType;
  /** `ALTER TABLE` that gives an existing column the type `sqlType`, and takes NULL when `nullable` (a NOT NULL column stays so otherwise). */
  alterColumnStatement(table: string, column: string, sqlType: string, nullable: boolean): string;
  /** SQL type of the position column: a string that compares in plain byte order. */
  readonly positionType: string;
  /** The target's columns of `table`, empty when the table does not exist. */
  targetColumns(connection: SqlConnection, table: string): Promise<TargetColumn[]>;
  /** `CREATE TABLE` statement tail for unique keys, one clause per key (named after the table). */
  uniqueKeyClause(table: string, index: number, columns: readonly string[]): string;
  /** Makes sure `lockStatement` can lock `table` (creates what the lock needs). */
  prepareLock(connection: SqlConnection, table: string): Promise<void>;
  /**
   * A statement that takes, until the end of the transaction, the apply lock of `table`: shared by
   * batches that only touch their own partition's keys, exclusive for batches whose rows can
   * collide with another partition's rows (unique keys, key-changing updates).
   */
  lockStatement(exclusive: boolean): string;
  /** `INSERT ... VALUES <rows>` that overwrites a row with the same key only if its position is older. */
  upsertStatement(table: string, columns: readonly string[], keyColumns: readonly string[], rowsSql: string): string;
  /** `INSERT ... VALUES <rows>` into a tombstone table that keeps the newer position of a key. */
  tombstoneStatement(table: string, keyColumns: readonly string[], rowsSql: string): string;
  /** `INSERT ... VALUES <rows>` that overwrites a row with the same key (the progress table). */
  overwriteStatement(table: string, columns: readonly string[], keyColumns: readonly string[], rowsSql: string): string;
  /** Deletes at most `limit` rows of `table` whose position is below parameter 1 (one short statement). */
  purgeStatement(table: string, limit: number): string;
  /** Indexes `table` (a tombstone table) on its position, so that the purge reads only what it deletes; idempotent, safe to race. */
  ensurePositionIndex(connection: SqlConnection, table: string): Promise<void>;
  /** True when the error says the target is down or busy (retry the batch), not that the row is bad. */
  isTransient(error: unknown): boolean;
  /** True when `ALTER TABLE ... ADD COLUMN` failed because another worker added the column first. */
  isDuplicateColumn(error: unknown): boolean;
}

/** The hidden column in which every target row keeps the source position of the event that wrote it. */
export const POSITION_COLUMN = '__cdc_pos';
