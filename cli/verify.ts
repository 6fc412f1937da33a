import mysql from 'mysql2/promise';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { listTables, readTable, splitQualifiedName } from '../connectors/mysql/schema-reader.ts';
import { chunkEnd, rowHashes, summarizeRange, type ChecksumTable, type KeyRange } from '../connectors/mysql/table-checksum.ts';
import { TableFilter } from '../connectors/mysql/table-filter.ts';
import type { Value } from '../topology/change-event.ts';
import type { PipelineConfig, SinkConfig, SourceConfig } from './config-schema.ts';
import { MongoClient } from 'mongodb';
import { compareCollections } from '../connectors/mongodb/collection-diff.ts';
import { coversCollection } from '../connectors/mongodb/config.ts';
import { POSITION_FIELD as MONGO_POSITION_FIELD } from '../connectors/mongodb/sink.ts';
import { formatTable } from './table.ts';

export type DifferenceKind = 'missing in target' | 'extra in target' | 'differs';

export interface Difference {
  key: string;
  kind: DifferenceKind;
}

export interface TableComparison {
  source: string;
  sink: string;
  target: string;
  sourceRows: number;
  targetRows: number;
  chunks: number;
  differingChunks: number;
  /** The first differing keys (at most `maxDifferences`). */
  differences: Difference[];
  /** Why the table was not compared, when it was not. */
  skipped?: string;
  /** The target table does not exist: a difference, not a table left out. */
  missing?: boolean;
}

export interface VerifyOptions {
  chunkSize?: number;
  maxDifferences?: number;
}

/**
 * Compares a table between source and target by primary-key chunks: per chunk, both servers compute
 * the row count and an order-free checksum over the source's columns (the target's own columns, such
 * as the sink's `__cdc_pos`, are left out); a chunk that differs is read key by key to name the keys.
 */
export async function compareTable(
  source: ChecksumTable,
  target: ChecksumTable,
  keyColumns: readonly string[],
  columns: readonly string[],
  options: VerifyOptions = {},
): Promise<Omit<TableComparison, 'source' | 'sink' | 'target'>> {
  const chunkSize = options.chunkSize ?? 10_000;
  const maxDifferences = options.maxDifferences ?? 20;
  const result = { sourceRows: 0, targetRows: 0, chunks: 0, differingChunks: 0, differences: [] as Difference[] };
  let after: Value[] | undefined;
  while (true) {
    const end = await chunkEnd(source, keyColumns, after, chunkSize);
    // The last chunk has no upper bound, so target rows past the source's last key are counted too.
    const range: KeyRange = { ...(after ? { after } : {}), ...(end ? { upTo: end } : {}) };
    const [ours, theirs] = await Promise.all([summarizeRange(source, keyColumns, columns, range), summarizeRange(target, keyColumns, columns, range)]);
    result.chunks++;
    result.sourceRows += ours.rows;
    result.targetRows += theirs.rows;
    if (ours.rows !== theirs.rows || ours.checksum !== theirs.checksum) {
      result.differingChunks++;
      if (result.differences.length < maxDifferences) {
        const room = maxDifferences - result.differences.length;
        result.differences.push(...(await differingKeys(source, target, keyColumns, columns, range)).slice(0, room));
      }
    }
    if (!end) return result;
    after = end;
  }
}

async function differingKeys(source: ChecksumTable, target: ChecksumTable, keyColumns: readonly string[], columns: readonly string[], range: KeyRange): Promise<Difference[]> {
  const [ours, theirs] = await Promise.all([rowHashes(source, keyColumns, columns, range), rowHashes(target, keyColumns, columns, range)]);
  const differences: Difference[] = [];
  for (const [key, hash] of ours) {
    const other = theirs.get(key);
    if (other === undefined) differences.push({ key, kind: 'missing in target' });
    else if (other !== hash) differences.push({ key, kind: 'differs' });
  }
  for (const key of theirs.keys()) if (!ours.has(key)) differences.push({ key, kind: 'extra in target' });
  return differences;
}

/**
 * `cdc verify`: every captured table (collection) of every source against every sink whose include /
 * exclude takes it. MySQL/MariaDB tables are compared with MySQL/MariaDB targets, MongoDB collections
 * with MongoDB targets; a pair across systems is listed as not compared, with the reason.
 */
export async function verifyPipeline(config: PipelineConfig, options: VerifyOptions = {}): Promise<TableComparison[]> {
  const results: TableComparison[] = [];
  for (const source of config.sources) {
    if (source.type === 'mysql') results.push(...(await verifyMySqlSource(source, config.sinks, options)));
    else results.push(...(await verifyMongoSource(source, config.sinks, options)));
  }
  return results;
}

function sinksTaking(sinks: readonly SinkConfig[], qualified: string): SinkConfig[] {
  const [db, table] = splitQualifiedName(qualified);
  return sinks.filter((sink) => new TableFilter(sink.include, sink.exclude).captures(db, table));
}

async function verifyMySqlSource(source: Extract<SourceConfig, { type: 'mysql' }>, sinks: readonly SinkConfig[], options: VerifyOptions): Promise<TableComparison[]> {
  const results: TableComparison[] = [];
  const sourcePool = mysql.createPool({ ...connectionOptions(source.url), connectionLimit: 2 });
  const targetPools = new Map<string, mysql.Pool>();
  try {
    for (const qualified of await listTables(sourcePool, new TableFilter(source.include, source.exclude))) {
      const [db, table] = splitQualifiedName(qualified);
      const captured = await readTable(sourcePool, db, table, source.keys);
      for (const sink of sinksTaking(sinks, qualified)) {
        if (sink.type !== 'mysql') {
          results.push(notCompared(qualified, sink.name, `verify compares MySQL/MariaDB tables with MySQL/MariaDB targets only (this sink is ${sink.type})`));
          continue;
        }
        if (!captured || captured.keyColumns.length === 0) {
          results.push(notCompared(qualified, sink.name, 'the table has no primary key'));
          continue;
        }
        const targetDb = decodeURIComponent(new URL(sink.url).pathname.slice(1));
        const targetTable = sink.tables[qualified] ?? table;
        let targetPool = targetPools.get(sink.name);
        if (!targetPool) targetPools.set(sink.name, (targetPool = mysql.createPool({ ...connectionOptions(sink.url), connectionLimit: 2 })));
        if (!(await tableExists(targetPool, targetDb, targetTable))) {
          results.push({ ...notCompared(qualified, sink.name, 'the target table does not exist'), target: `${targetDb}.${targetTable}`, missing: true });
          continue;
        }
        const comparison = await compareTable(
          { pool: sourcePool, db, table },
          { pool: targetPool, db: targetDb, table: targetTable },
          captured.keyColumns,
          captured.schema.columns.map((c) => c.name),
          options,
        );
        results.push({ source: qualified, sink: sink.name, target: `${targetDb}.${targetTable}`, ...comparison });
      }
    }
  } finally {
    await sourcePool.end();
    for (const pool of targetPools.values()) await pool.end();
  }
  return results;
}

async function verifyMongoSource(source: Extract<SourceConfig, { type: 'mongodb' }>, sinks: readonly SinkConfig[], options: VerifyOptions): Promise<TableComparison[]> {
  const results: TableComparison[] = [];
  const sourceClient = await new MongoClient(source.url).connect();
  const targetClients = new Map<string, MongoClient>();
  try {
    const names = (await sourceClient.db(source.database).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    for (const collection of names.filter((name) => coversCollection(source, name)).sort()) {
      const qualified = `${source.database}.${collection}`;
      for (const sink of sinksTaking(sinks, qualified)) {
        if (sink.type !== 'mongodb') {
          results.push(notCompared(qualified, sink.name, `verify compares MongoDB collections with MongoDB targets only (this sink is ${sink.type})`));
          continue;
        }
        let targetClient = targetClients.get(sink.name);
        if (!targetClient) targetClients.set(sink.name, (targetClient = await new MongoClient(sink.url).connect()));
        const target = sink.tables[qualified] ?? collection;
        const comparison = await compareCollections(sourceClient.db(source.database).collection(collection), targetClient.db(sink.database).collection(target), {
          ignoreFields: [MONGO_POSITION_FIELD],
          ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
          ...(options.maxDifferences ? { maxDifferences: options.maxDifferences } : {}),
        });
        results.push({ source: qualified, sink: sink.name, target: `${sink.database}.${target}`, ...comparison });
      }
    }
  } finally {
    await sourceClient.close();
    for (const client of targetClients.values()) await client.close();
  }
  return results;
}

async function tableExists(pool: mysql.Pool, db: string, table: string): Promise<boolean> {
  const [rows] = await pool.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  return (rows as unknown[]).length > 0;
}

function notCompared(source: string, sink: string, reason: string): TableComparison {
  return { source, sink, target: '-', sourceRows: 0, targetRows: 0, chunks: 0, differingChunks: 0, differences: [], skipped: reason };
}

export function isEqual(results: readonly TableComparison[]): boolean {
  return results.every((r) => r.skipped === undefined && r.differingChunks === 0);
}

/** The verify table, one line per compared table, then the differing keys. */
export function formatComparisons(results: readonly TableComparison[]): string {
  const header = ['source table', 'sink', 'target table', 'source rows', 'target rows', 'chunks', 'result'];
  const rows = results.map((r) => [
    r.source,
    r.sink,
    r.target,
    String(r.sourceRows),
    String(r.targetRows),
    String(r.chunks),
    r.missing ? 'DIFFERENT (target table missing)' : r.skipped ? `not compared: ${r.skipped}` : r.differingChunks === 0 ? 'equal' : `DIFFERENT (${r.differingChunks} chunk${r.differingChunks === 1 ? '' : 's'})`,
  ]);
  const out = [formatTable(header, rows)];
  for (const r of results) for (const d of r.differences) out.push(`  ${r.source} → ${r.target}: key ${d.key} ${d.kind}`);
  return out.join('\n');
}
