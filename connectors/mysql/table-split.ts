import type { Pool } from 'mysql2/promise';
import { truncateEvent, type Row } from '../../topology/change-event.ts';
import { ConfigError } from '../../topology/errors.ts';
import type { LogPosition, SplitTable } from '../../topology/source.ts';
import { encodeKey } from './key-codec.ts';
import { splitQualifiedName, type CapturedTable } from './schema-reader.ts';
import { keysetQuery, snapshotEvent, snapshotSource } from './snapshot.ts';

export interface TableSplitSettings {
  sourceName: string;
  pool: Pool;
  loadTable: (db: string, table: string) => Promise<CapturedTable | undefined>;
}

/**
 * SourceConnector.splitTable: the key of every `rowsPerRange`-th row, read one row per range with keyset
 * pagination and OFFSET (a walk along the primary key's index; no lock, no row held in memory).
 */
export async function splitTable(settings: TableSplitSettings, name: string, rowsPerRange: number, from: LogPosition): Promise<SplitTable | undefined> {
  const [db, tableName] = splitQualifiedName(name);
  const table = await settings.loadTable(db, tableName);
  if (table === undefined) return undefined;
  if (table.keyColumns.length === 0) {
    throw new ConfigError(
      `MySQL source ${settings.sourceName}: table ${name} has no primary key, and a spread snapshot reads it in key ranges: give it a key in the source's keys option, or set spreadSnapshot: false`,
    );
  }
  const now = Date.now();
  const source = snapshotSource(settings.sourceName, table, from.position, now);
  const bounds: string[] = [];
  for (;;) {
    const query = keysetQuery(table, bounds.at(-1), 1, undefined, rowsPerRange - 1);
    const [rows] = (await settings.pool.query(query.sql, query.parameters)) as unknown as [Row[]];
    const row = rows[0];
    if (row === undefined) break;
    // Converted as a snapshot row is, so the bound is encoded as the snapshot's keys are.
    snapshotEvent(table, row, source, now);
    bounds.push(encodeKey(row, table.keyColumns));
  }
  return { bounds, marker: truncateEvent(source, table.schema) };
}
