import { Observable, type Subscriber } from 'rxjs';
import type { Pool, PoolConnection } from 'mysql2';
import { truncateEvent, type ChangeEvent, type Row, type SourceInfo, type Value } from '../../topology/change-event.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import type { LogPosition, SnapshotItem } from '../../topology/source.ts';
import type { TableSnapshotProgress } from '../../topology/token.ts';
import { decodeKey, encodeKey } from './key-codec.ts';
import { splitQualifiedName, type CapturedTable } from './schema-reader.ts';
import { keyAfterCondition, keyUpToCondition, quoteIdentifier, quoteTable } from './sql.ts';

export interface SnapshotSettings {
  sourceName: string;
  /** Connections for the snapshot: `parallelism` of them are in use at once. */
  pool: Pool;
  chunkSize: number;
  /** Tables read at once. */
  parallelism: number;
  loadTable: (db: string, table: string) => Promise<CapturedTable | undefined>;
  warn: (message: string) => void;
}

/**
 * Reads each table in key order, `chunkSize` rows per query (keyset pagination: no OFFSET, no lock),
 * `parallelism` tables at once, each resuming after its progress.lastKey. After each chunk's rows comes a
 * chunkDone item with the table's new progress. Rows stream from the server: when `flow` pauses, the
 * connection stops reading until it resumes.
 */
export function snapshotTables(
  settings: SnapshotSettings,
  tables: readonly string[],
  from: LogPosition,
  progress: Readonly<Record<string, TableSnapshotProgress>>,
  flow: FlowControl,
): Observable<SnapshotItem> {
  return new Observable<SnapshotItem>((subscriber) => {
    const pending = tables.filter((name) => progress[name]?.done !== true);
    const reading = new Set<PoolConnection>();
    const reader = new ChunkReader(settings, from, flow, subscriber, reading);
    const worker = async (): Promise<void> => {
      for (let name = pending.shift(); name !== undefined && !subscriber.closed; name = pending.shift()) {
        await reader.table(name, progress[name] ?? { done: false, rows: 0, chunks: 0 });
      }
    };
    const workers = Array.from({ length: Math.min(settings.parallelism, pending.length) }, worker);
    Promise.all(workers).then(
      () => subscriber.complete(),
      (error: unknown) => subscriber.error(error),
    );
    return () => {
      // Unsubscribed mid-table: the queries' connections are dropped, not returned half-read.
      for (const connection of reading) connection.destroy();
    };
  });
}

class ChunkReader {
  constructor(
    private readonly settings: SnapshotSettings,
    private readonly from: LogPosition,
    private readonly flow: FlowControl,
    private readonly subscriber: Subscriber<SnapshotItem>,
    private readonly reading: Set<PoolConnection>,
  ) {}

  async table(name: string, start: TableSnapshotProgress): Promise<void> {
    const [db, tableName] = splitQualifiedName(name);
    const table = await this.settings.loadTable(db, tableName);
    if (table === undefined) {
      // Dropped since the table list was read: nothing to read, and nothing to resume.
      this.subscriber.next({ kind: 'chunkDone', table: name, progress: { ...start, done: true } });
      return;
    }
    const { keyColumns } = table;
    if (keyColumns.length === 0) {
      this.settings.warn(`table ${name} has no primary key and no configured key: snapshotting it in one pass, which restarts from its beginning if interrupted`);
      const rows = await this.chunk(table, { sql: selectRows(table), parameters: [] });
      this.tableDone(table);
      this.subscriber.next({ kind: 'chunkDone', table: name, progress: { done: true, rows: rows.count, chunks: 1 } });
      return;
    }
    let progress = start;
    while (!progress.done && !this.subscriber.closed) {
      const read = await this.chunk(table, keysetQuery(table, progress.lastKey, this.settings.chunkSize));
      progress = {
        done: read.count < this.settings.chunkSize,
        rows: progress.rows + read.count,
        chunks: progress.chunks + (read.count > 0 ? 1 : 0),
        lastKey: read.last === undefined ? progress.lastKey : encodeKey(read.last, keyColumns),
      };
      if (progress.done) this.tableDone(table);
      this.subscriber.next({ kind: 'chunkDone', table: name, progress });
    }
  }

  /**
   * The table's end marker, after its last row and before the token that marks it done (so no restart
   * skips it): rows written before the snapshot's position are gone unless the snapshot wrote them again.
   * This is what removes, after a re-snapshot, the rows deleted in a binlog that was lost.
   */
  private tableDone(table: CapturedTable): void {
    this.subscriber.next({ kind: 'tableDone', marker: truncateEvent(snapshotSource(this.settings.sourceName, table, this.from.position, Date.now()), table.schema) });
  }

  /** Streams one query's rows out as `r` events; resolves with their count and the last row. */
  private async chunk(table: CapturedTable, query: RowQuery): Promise<{ count: number; last: Row | undefined }> {
    const connection = await new Promise<PoolConnection>((resolve, reject) =>
      this.settings.pool.getConnection((error, connection) => (error ? reject(error) : resolve(connection))),
    );
    this.reading.add(connection);
    const now = Date.now();
    // One SourceInfo for the whole chunk: every `r` row of it has the same one.
    const source = snapshotSource(this.settings.sourceName, table, this.from.position, now);
    let count = 0;
    let last: Row | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const rows = connection.query(query.sql, query.parameters);
        rows.on('result', (result) => {
          const row = result as Row;
          this.subscriber.next({ kind: 'row', event: snapshotEvent(table, row, source, now) });
          count++;
          last = row;
          if (this.flow.paused) {
            connection.pause();
            void this.flow.resumed().then(() => connection.resume());
          }
        });
        rows.on('error', reject);
        rows.on('end', () => resolve());
      });
    } finally {
      this.reading.delete(connection);
      connection.release();
    }
    return { count, last };
  }
}

/** A SELECT with its `?` parameters. */
export interface RowQuery {
  sql: string;
  parameters: Value[];
}

/** The SELECT of every row of a table, with the snapshot's expressions (selectExpression). */
function selectRows({ schema }: CapturedTable): string {
  return `SELECT ${schema.columns.map(selectExpression).join(', ')} FROM ${quoteTable(schema.db, schema.table)}`;
}

/**
 * Keyset pagination (no OFFSET, no lock): the query for at most `limit` rows of a keyed table in key order
 * after the row whose encoded key (key-codec.ts) is `afterKey` (from the start when undefined) and, given
 * `upToKey`, up to that key's row. `skip` rows are passed over first (a spread snapshot's split reads one
 * row every so many).
 */
export function keysetQuery(table: CapturedTable, afterKey: string | undefined, limit: number, upToKey?: string, skip = 0): RowQuery {
  const conditions: Array<{ sql: string; parameters: Value[] }> = [];
  if (afterKey !== undefined) {
    const after = keyAfterCondition(table.keyColumns);
    conditions.push({ sql: after.sql, parameters: after.parameters(decodeKey(afterKey)) });
  }
  if (upToKey !== undefined) {
    const upTo = keyUpToCondition(table.keyColumns);
    conditions.push({ sql: upTo.sql, parameters: upTo.parameters(decodeKey(upToKey)) });
  }
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.map((condition) => `(${condition.sql})`).join(' AND ')}`;
  const order = ` ORDER BY ${table.keyColumns.map(quoteIdentifier).join(', ')} LIMIT ?${skip > 0 ? ' OFFSET ?' : ''}`;
  return { sql: selectRows(table) + where + order, parameters: [...conditions.flatMap((condition) => condition.parameters), limit, ...(skip > 0 ? [skip] : [])] };
}

/** Where a snapshot's rows of `table` come from: one SourceInfo shared by the rows of a read. */
export function snapshotSource(sourceName: string, { schema }: CapturedTable, position: string, now: number): SourceInfo {
  return { connector: 'mysql', name: sourceName, db: schema.db, table: schema.table, position, tsMs: now, snapshot: true };
}

/** A row read by a snapshot query as its `r` event; `row` is converted to canonical values in place. */
export function snapshotEvent({ schema, keyColumns, convert }: CapturedTable, row: Row, source: SourceInfo, now: number): ChangeEvent {
  convert?.(row);
  const key: Row = {};
  for (const column of keyColumns) key[column] = row[column] ?? null;
  return { op: 'r', key, before: null, after: row, source, tsMs: now, schema };
}

const GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);

/**
 * FLOAT is read widened to DOUBLE: its text form is rounded to 6 digits, DOUBLE's is exact. GEOMETRY is
 * read as binary: its bytes (SRID + WKB) are the canonical value, which mysql2 would parse into points.
 */
export function selectExpression(column: { name: string; type: string }): string {
  const name = quoteIdentifier(column.name);
  if (column.type === 'float') return `CAST(${name} AS DOUBLE) AS ${name}`;
  if (GEOMETRY_TYPES.has(column.type)) return `CAST(${name} AS BINARY) AS ${name}`;
  return name;
}
