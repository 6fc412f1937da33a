import type { Pool } from 'mysql2/promise';
import type { Row } from '../../topology/change-event.ts';
import { ConfigError } from '../../topology/errors.ts';
import type { IncrementalChunk } from '../../topology/source.ts';
import { encodeKey } from './key-codec.ts';
import { boundaryPosition, type BinlogResume } from './position.ts';
import { splitQualifiedName, type CapturedTable } from './schema-reader.ts';
import { keysetQuery, snapshotEvent, snapshotSource, type RowQuery } from './snapshot.ts';

export interface ChunkReadSettings {
  sourceName: string;
  /** The source's pool: its sessions read TIMESTAMP in UTC, as the snapshot does. */
  pool: Pool;
  mariadb: boolean;
  /** The binlog's file and position now (SHOW MASTER STATUS). */
  binlogNow: () => Promise<Pick<BinlogResume, 'file' | 'pos'>>;
  loadTable: (db: string, table: string) => Promise<CapturedTable | undefined>;
}

/**
 * One chunk of an incremental snapshot (SourceConnector.readChunk): the snapshot's keyset query and `r`
 * events, placed in the binlog without writing to the source (DBLog writes its watermarks to a table).
 *
 * - MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT, whose Binlog_snapshot_file/position status is
 *   the binlog position that the transaction's read view matches exactly: low = high.
 * - MySQL has no such status: low is the binlog position before the SELECT, high the one after. A
 *   transaction the SELECT sees is in the binlog at high, as a commit writes the binlog before the
 *   storage engine. The limit: a transaction already in the binlog at low whose engine commit is not yet
 *   visible to the SELECT (between the two steps of its commit) is missing from the chunk, and its
 *   change, at or before low, does not drop the row: the chunk's older row is then emitted after it. The
 *   window is that between a commit's binlog write and its engine commit.
 */
export async function readIncrementalChunk(settings: ChunkReadSettings, name: string, afterKey: string | undefined, size: number, upToKey?: string): Promise<IncrementalChunk | undefined> {
  const [db, tableName] = splitQualifiedName(name);
  const table = await settings.loadTable(db, tableName);
  if (table === undefined) return undefined;
  if (table.keyColumns.length === 0) {
    throw new ConfigError(
      `MySQL source ${settings.sourceName}: table ${name} has no primary key, and an incremental snapshot reads it in key-ordered chunks: give it a key in the source's keys option, e.g. keys: { "${name}": ["<unique non-null column>", …] }`,
    );
  }
  const query = keysetQuery(table, afterKey, size, upToKey);
  const { rows, low, high } = settings.mariadb ? await readAtConsistentSnapshot(settings.pool, query) : await readBetweenPositions(settings, query);
  const now = Date.now();
  const source = snapshotSource(settings.sourceName, table, high, now);
  const events = rows.map((row) => snapshotEvent(table, row, source, now));
  // After snapshotEvent: the key is encoded from canonical values, as the snapshot's progress is.
  const last = rows.at(-1);
  return {
    rows: events,
    lastKey: last === undefined ? undefined : encodeKey(last, table.keyColumns),
    done: rows.length < size,
    low,
    high,
    schema: table.schema,
    db: table.schema.db,
    tableName: table.schema.table,
  };
}

interface PlacedRead {
  rows: Row[];
  low: string;
  high: string;
}

async function readAtConsistentSnapshot(pool: Pool, query: RowQuery): Promise<PlacedRead> {
  const connection = await pool.getConnection();
  try {
    // WITH CONSISTENT SNAPSHOT only holds under REPEATABLE READ, whatever the server's default.
    await connection.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [status] = (await connection.query("SHOW STATUS LIKE 'binlog_snapshot_%'")) as unknown as [Array<{ Variable_name: string; Value: string }>];
    const value = (name: string) => status.find((variable) => variable.Variable_name.toLowerCase() === name)?.Value ?? '';
    const position = boundaryPosition({ file: value('binlog_snapshot_file'), pos: Number(value('binlog_snapshot_position')) });
    const [rows] = await connection.query(query.sql, query.parameters);
    await connection.query('COMMIT');
    connection.release();
    return { rows: rows as Row[], low: position, high: position };
  } catch (error) {
    // Never back into the pool with its transaction (and read view) open.
    connection.destroy();
    throw error;
  }
}

async function readBetweenPositions(settings: ChunkReadSettings, query: RowQuery): Promise<PlacedRead> {
  const low = boundaryPosition(await settings.binlogNow());
  const [rows] = await settings.pool.query(query.sql, query.parameters);
  const high = boundaryPosition(await settings.binlogNow());
  return { rows: rows as Row[], low, high };
}
