import type { Pool } from 'mysql2/promise';
import type { Value } from '../../topology/change-event.ts';
import { keyAfterCondition, quoteIdentifier, quoteTable } from './sql.ts';

/** One side of a comparison: a table on a MySQL/MariaDB server, with the columns to compare. */
export interface ChecksumTable {
  pool: Pool;
  db: string;
  table: string;
}

export interface RangeSummary {
  rows: number;
  /** 64-bit XOR of per-row hashes: order-free, so both sides may scan in any order. */
  checksum: string;
}

/** A key range: rows after `after` (exclusive; none = from the start) up to `upTo` (inclusive; none = to the end). */
export interface KeyRange {
  after?: readonly Value[];
  upTo?: readonly Value[];
}

/**
 * Per-row hash computed by the server: MD5 over the compared columns with a separator and each
 * column's NULL flag (CONCAT_WS skips NULLs, so NULL and '' would otherwise hash alike).
 */
function rowHash(columns: readonly string[]): string {
  const quoted = columns.map(quoteIdentifier);
  return `MD5(CONCAT_WS(0x1f, ${quoted.join(', ')}, CONCAT(${quoted.map((c) => `ISNULL(${c})`).join(', ')})))`;
}

function rangeCondition(keyColumns: readonly string[], range: KeyRange): { where: string; parameters: Value[] } {
  const after = keyAfterCondition(keyColumns);
  const parts: string[] = [];
  const parameters: Value[] = [];
  if (range.after) {
    parts.push(`(${after.sql})`);
    parameters.push(...after.parameters(range.after));
  }
  if (range.upTo) {
    parts.push(`NOT (${after.sql})`);
    parameters.push(...after.parameters(range.upTo));
  }
  return { where: parts.length > 0 ? parts.join(' AND ') : 'TRUE', parameters };
}

/** The key of the `chunkSize`-th row after `after`, or undefined when fewer rows remain (the last chunk). */
export async function chunkEnd(side: ChecksumTable, keyColumns: readonly string[], after: readonly Value[] | undefined, chunkSize: number): Promise<Value[] | undefined> {
  const { where, parameters } = rangeCondition(keyColumns, after ? { after } : {});
  const order = keyColumns.map(quoteIdentifier).join(', ');
  const [rows] = await side.pool.query({
    sql: `SELECT ${order} FROM ${quoteTable(side.db, side.table)} WHERE ${where} ORDER BY ${order} LIMIT 1 OFFSET ?`,
    values: [...parameters, chunkSize - 1],
    rowsAsArray: true,
  });
  return (rows as Value[][])[0];
}

export async function summarizeRange(side: ChecksumTable, keyColumns: readonly string[], columns: readonly string[], range: KeyRange): Promise<RangeSummary> {
  const { where, parameters } = rangeCondition(keyColumns, range);
  const [rows] = await side.pool.query(
    `SELECT COUNT(*) AS n, CAST(COALESCE(BIT_XOR(CAST(CONV(LEFT(${rowHash(columns)}, 16), 16, 10) AS UNSIGNED)), 0) AS CHAR) AS x
       FROM ${quoteTable(side.db, side.table)} WHERE ${where}`,
    parameters,
  );
  const [summary] = rows as Array<{ n: number | string; x: string }>;
  return { rows: Number(summary!.n), checksum: summary!.x };
}

/** Key (as canonical JSON) → row hash, for the drill-down into a range whose summaries differ. */
export async function rowHashes(side: ChecksumTable, keyColumns: readonly string[], columns: readonly string[], range: KeyRange): Promise<Map<string, string>> {
  const { where, parameters } = rangeCondition(keyColumns, range);
  const [rows] = await side.pool.query({
    sql: `SELECT ${keyColumns.map(quoteIdentifier).join(', ')}, ${rowHash(columns)} FROM ${quoteTable(side.db, side.table)} WHERE ${where}`,
    values: parameters,
    rowsAsArray: true,
  });
  const hashes = new Map<string, string>();
  for (const row of rows as Value[][]) {
    const hash = row.pop() as string;
    hashes.set(JSON.stringify(row, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)), hash);
  }
  return hashes;
}
