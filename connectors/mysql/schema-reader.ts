import type { Pool } from 'mysql2/promise';
import type { Row, TableSchema } from '../../topology/change-event.ts';
import { canonicalRowConverter, columnSchema, type ColumnDefinition } from './column-types.ts';
import type { TableFilter } from './table-filter.ts';

/** A captured table: its schema and what reading its rows needs, shared by snapshot and binlog. */
export interface CapturedTable {
  schema: TableSchema;
  /** Primary key, or the configured key standing in for a missing one; empty when the table has neither. */
  keyColumns: string[];
  convert: ((row: Row) => void) | undefined;
}

export function qualifiedName(db: string, table: string): string {
  return `${db}.${table}`;
}

/** Reads a table's schema from information_schema; undefined when the table does not exist (any more). */
export async function readTable(
  pool: Pool,
  db: string,
  table: string,
  configuredKeys: Readonly<Record<string, string[]>>,
): Promise<CapturedTable | undefined> {
  const [columns] = (await pool.query(
    `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, table],
  )) as unknown as [Array<Omit<ColumnDefinition, 'nullable'> & { nullable: 'YES' | 'NO' }>];
  if (columns.length === 0) return undefined;
  const [keyParts] = (await pool.query(
    `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS columnName
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
       ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    [db, table],
  )) as unknown as [Array<{ indexName: string; columnName: string }>];
  const uniqueKeys = new Map<string, string[]>();
  for (const { indexName, columnName } of keyParts) {
    const key = uniqueKeys.get(indexName) ?? [];
    key.push(columnName);
    uniqueKeys.set(indexName, key);
  }
  const primaryKey = uniqueKeys.get('PRIMARY') ?? configuredKeys[qualifiedName(db, table)] ?? [];
  uniqueKeys.delete('PRIMARY');
  const schema: TableSchema = {
    db,
    table,
    columns: columns.map((column) => columnSchema({ ...column, nullable: column.nullable === 'YES' })),
    primaryKey,
    uniqueKeys: [...uniqueKeys.values()],
  };
  return { schema, keyColumns: primaryKey, convert: canonicalRowConverter(schema) };
}

/** Base tables the filter captures, as `db.table`, in name order. */
export async function listTables(pool: Pool, filter: TableFilter): Promise<string[]> {
  const [tables] = (await pool.query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES
       WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`,
  )) as unknown as [Array<{ db: string; name: string }>];
  return tables.filter(({ db, name }) => filter.captures(db, name)).map(({ db, name }) => qualifiedName(db, name));
}

/**
 * InnoDB's own row estimates (information_schema.TABLES.TABLE_ROWS: statistics, may be off by tens of
 * percent, never a scan), for snapshot progress only.
 */
export async function estimateTableRows(pool: Pool, tables: readonly string[]): Promise<Record<string, number>> {
  if (tables.length === 0) return {};
  // Filtered by schema only, the tables picked here: the stack's MariaDB 10.11.19 once segfaulted
  // answering an information_schema.TABLES query (cause not pinned down), so the plainest WHERE.
  const wanted = new Set(tables);
  const [rows] = (await pool.query(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?)`,
    [[...new Set(tables.map((table) => splitQualifiedName(table)[0]))]],
  )) as unknown as [Array<{ db: string; name: string; estimate: number | string | null }>];
  return Object.fromEntries(
    rows.flatMap(({ db, name, estimate }) => (wanted.has(qualifiedName(db, name)) ? [[qualifiedName(db, name), Number(estimate ?? 0)]] : [])),
  );
}

/** Splits `db.table` (the first dot separates: database names with dots are not supported). */
export function splitQualifiedName(name: string): [db: string, table: string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}
