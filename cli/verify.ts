import { MongoVerifySource, MongoVerifyTarget } from '../connectors/mongodb/verify-reader.ts';
import { MySqlVerifySource, MySqlVerifyTarget } from '../connectors/mysql/verify-reader.ts';
import { splitQualifiedName } from '../connectors/mysql/schema-reader.ts';
import { TableFilter } from '../connectors/mysql/table-filter.ts';
import { PostgresVerifyTarget } from '../connectors/postgres/verify-reader.ts';
import { encodeValues } from '../connectors/sink/key-actions.ts';
import { differingMembers, sameValue } from '../topology/canonical-equality.ts';
import type { ColumnSchema, Row, Value } from '../topology/change-event.ts';
import { ConfigError } from '../topology/errors.ts';
import type { VerifySourceReader, VerifyTable, VerifyTargetReader } from '../topology/verify-reader.ts';
import type { PipelineConfig, SinkConfig, SourceConfig } from './config-schema.ts';
import { formatTable } from './table.ts';

/** Each system's verify readers (connectors/<system>/verify-reader.ts), by config type. */
const SOURCE_READERS: { [T in SourceConfig['type']]: (source: Extract<SourceConfig, { type: T }>) => VerifySourceReader } = {
  mysql: (source) => new MySqlVerifySource({ url: source.url, include: source.include, exclude: source.exclude, keys: source.keys }),
  mongodb: (source) => new MongoVerifySource({ url: source.url, database: source.database, collections: source.collections }),
};
const TARGET_READERS: { [T in SinkConfig['type']]: (sink: Extract<SinkConfig, { type: T }>) => VerifyTargetReader } = {
  mysql: (sink) => new MySqlVerifyTarget({ url: sink.url, tableMap: sink.tables }),
  postgres: (sink) => new PostgresVerifyTarget({ url: sink.url, schema: sink.schema, tableMap: sink.tables }),
  mongodb: (sink) => new MongoVerifyTarget({ url: sink.url, database: sink.database, collectionMap: sink.tables }),
};

export type DifferenceKind = 'missing in target' | 'extra in target' | 'differs';

export interface Difference {
  /** The key: its values as JSON (`[14,"k14"]`); for a MongoDB source, `_id` as canonical Extended JSON. */
  key: string;
  kind: DifferenceKind;
  /** The columns whose values differ (`differs` only); in a JSON object, its top-level members: `doc.price` (MongoDB), `attributes.size`. */
  columns?: string[];
}

export interface TableComparison {
  source: string;
  sink: string;
  target: string;
  sourceRows: number;
  targetRows: number;
  chunks: number;
  /** Keys that differ, are missing or are extra: all of them counted, the first `maxDifferences` listed. */
  differingRows: number;
  differences: Difference[];
  /** Why the table was not compared, when it was not. */
  skipped?: string;
  /** The target table does not exist: a difference, not a table left out. */
  missing?: boolean;
}

/** Rows compared so far, per comparison: the progress bars' feed. */
export interface VerifyProgress {
  start(name: string, estimatedRows: number): void;
  advance(name: string, rows: number): void;
  done(name: string): void;
}

export interface VerifyOptions {
  /** Source rows per chunk (one key range, read from both sides). */
  chunkSize?: number;
  maxDifferences?: number;
  /** Only these source tables (`db.table`); each must be one a source captures. */
  tables?: readonly string[];
  progress?: VerifyProgress;
}

/**
 * Compares one source table with its target, chunk by chunk: the source's next `chunkSize` rows in key
 * order set a key range, the target's rows in that range are read, and rows are matched by key and
 * compared column by column as canonical values. Memory holds two source chunks (the next one is read
 * meanwhile) and one target range, plus the keys found on one side only: those wait (at most `chunkSize`
 * per side) for a later chunk, since two servers may order keys differently (string collations, BSON
 * types), and whatever still waits at the end is missing or extra.
 */
export async function compareTable(
  source: VerifySourceReader,
  target: VerifyTargetReader,
  table: VerifyTable,
  options: VerifyOptions = {},
  onChunk: (rows: number) => void = () => {},
): Promise<Pick<TableComparison, 'sourceRows' | 'targetRows' | 'chunks' | 'differingRows' | 'differences'>> {
  const chunkSize = options.chunkSize ?? 10_000;
  const maxDifferences = options.maxDifferences ?? 20;
  const result = { sourceRows: 0, targetRows: 0, chunks: 0, differingRows: 0, differences: [] as Difference[] };
  const keyOf = (row: Row): Value[] => table.keyColumns.map((column) => row[column] ?? null);
  const differ = (key: Value[], kind: DifferenceKind, differing?: string[]) => {
    result.differingRows++;
    if (result.differences.length < maxDifferences) result.differences.push({ key: formatKey(table, key), kind, ...(differing ? { columns: differing } : {}) });
  };
  const compareRows = (ours: Row, theirs: Row) => {
    const differing = table.columns.filter((column) => !sameValue(ours[column.name], theirs[column.name], column)).flatMap((column) => where(column, ours, theirs));
    if (differing.length > 0) differ(keyOf(ours), 'differs', differing);
  };
  // Rows seen on one side only so far, by key identity, oldest first.
  const onlyInSource = new Map<string, Row>();
  const onlyInTarget = new Map<string, Row>();
  const wait = (waiting: Map<string, Row>, id: string, row: Row, kind: DifferenceKind) => {
    waiting.set(id, row);
    if (waiting.size <= chunkSize) return;
    const [oldest, oldestRow] = waiting.entries().next().value!;
    waiting.delete(oldest);
    differ(keyOf(oldestRow), kind);
  };
  let after: Value[] | undefined;
  let ours = await source.chunk(table, undefined, chunkSize);
  for (;;) {
    // The last chunk has no upper bound, so target rows past the source's last key are read too.
    const upTo = ours.length < chunkSize ? undefined : keyOf(ours.at(-1)!);
    // The source's next chunk is read while the target reads this one's range.
    const [theirs, next] = await Promise.all([
      target.rows(table, { ...(after ? { after } : {}), ...(upTo ? { upTo } : {}) }),
      upTo ? source.chunk(table, upTo, chunkSize) : undefined,
    ]);
    result.chunks++;
    result.sourceRows += ours.length;
    result.targetRows += theirs.length;
    const theirsByKey = new Map(theirs.map((row) => [encodeValues(keyOf(row)), row]));
    for (const row of ours) {
      const id = encodeValues(keyOf(row));
      const match = theirsByKey.get(id) ?? onlyInTarget.get(id);
      if (match === undefined) wait(onlyInSource, id, row, 'missing in target');
      else compareRows(row, match);
      theirsByKey.delete(id);
      onlyInTarget.delete(id);
    }
    for (const [id, row] of theirsByKey) {
      const match = onlyInSource.get(id);
      if (match === undefined) wait(onlyInTarget, id, row, 'extra in target');
      else {
        compareRows(match, row);
        onlyInSource.delete(id);
      }
    }
    onChunk(ours.length);
    if (upTo === undefined || next === undefined) break;
    after = upTo;
    ours = next;
  }
  for (const row of onlyInSource.values()) differ(keyOf(row), 'missing in target');
  for (const row of onlyInTarget.values()) differ(keyOf(row), 'extra in target');
  return result;
}

/** A differing column's name; for JSON objects (MongoDB documents among them), its differing members: `doc.price`. */
function where(column: ColumnSchema, ours: Row, theirs: Row): string[] {
  const [a, b] = [ours[column.name], theirs[column.name]];
  const members = column.type === 'json' && typeof a === 'string' && typeof b === 'string' ? differingMembers(a, b) : undefined;
  return members && members.length > 0 ? members.map((member) => `${column.name}.${member}`) : [column.name];
}

/** A key as JSON: `[9007199254740993,"k"]` (64-bit integers exact, bytes as `"0x…"`); MongoDB: `_id`'s Extended JSON. */
function formatKey(table: VerifyTable, key: readonly Value[]): string {
  if (table.connector === 'mongodb') return String(key[0]);
  const json = (value: Value) => (typeof value === 'bigint' ? value.toString() : JSON.stringify(Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : value));
  return `[${key.map(json).join(',')}]`;
}

/**
 * `cdc verify`: every captured table (collection) of every source against every sink whose include /
 * exclude takes it, whatever the two systems; `options.tables` picks some.
 */
export async function verifyPipeline(config: PipelineConfig, options: VerifyOptions = {}): Promise<TableComparison[]> {
  const sources = config.sources.map((source) => (SOURCE_READERS[source.type] as (source: SourceConfig) => VerifySourceReader)(source));
  const targets = new Map(config.sinks.map((sink) => [sink.name, (TARGET_READERS[sink.type] as (sink: SinkConfig) => VerifyTargetReader)(sink)]));
  try {
    const chosen = options.tables && new Set(options.tables);
    const work: Array<{ source: VerifySourceReader; table: VerifyTable }> = [];
    for (const source of sources) for (const table of await source.tables()) if (!chosen || chosen.has(table.name)) work.push({ source, table });
    // Before comparing anything: a mistyped name is a usage error, not a long run that leaves it out.
    const unknown = [...(chosen ?? [])].filter((name) => !work.some(({ table }) => table.name === name));
    if (unknown.length > 0) throw new ConfigError(`--table ${unknown.join(', ')}: no source captures ${unknown.length === 1 ? 'this table' : 'these tables'} (expected db.table as the sources include it)`);
    const results: TableComparison[] = [];
    for (const { source, table } of work) {
      for (const sink of sinksTaking(config.sinks, table.name)) results.push(await verifyTable(source, targets.get(sink.name)!, table, sink.name, options));
    }
    return results;
  } finally {
    for (const reader of [...sources, ...targets.values()]) await reader.close();
  }
}

async function verifyTable(source: VerifySourceReader, target: VerifyTargetReader, table: VerifyTable, sink: string, options: VerifyOptions): Promise<TableComparison> {
  const location = await target.locate(table);
  if ('refused' in location) return notCompared(table.name, sink, '-', location.refused);
  if (table.keyColumns.length === 0) return notCompared(table.name, sink, location.name, 'the table has no primary key (set the source\'s keys for it)');
  if (!location.exists) return { ...notCompared(table.name, sink, location.name, 'the target table does not exist'), missing: true };
  const name = `${table.name} → ${sink}`;
  options.progress?.start(name, table.estimatedRows ?? 0);
  try {
    const comparison = await compareTable(source, target, table, options, (rows) => options.progress?.advance(name, rows));
    return { source: table.name, sink, target: location.name, ...comparison };
  } finally {
    options.progress?.done(name);
  }
}

function sinksTaking(sinks: readonly SinkConfig[], qualified: string): SinkConfig[] {
  const [db, table] = splitQualifiedName(qualified);
  return sinks.filter((sink) => new TableFilter(sink.include, sink.exclude).captures(db, table));
}

function notCompared(source: string, sink: string, target: string, reason: string): TableComparison {
  return { source, sink, target, sourceRows: 0, targetRows: 0, chunks: 0, differingRows: 0, differences: [], skipped: reason };
}

export function isEqual(results: readonly TableComparison[]): boolean {
  return results.every((r) => r.skipped === undefined && r.differingRows === 0);
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
    r.missing
      ? 'DIFFERENT (target table missing)'
      : r.skipped
        ? `not compared: ${r.skipped}`
        : r.differingRows === 0
          ? 'equal'
          : `DIFFERENT (${r.differingRows} row${r.differingRows === 1 ? '' : 's'})`,
  ]);
  const out = [formatTable(header, rows)];
  for (const r of results) {
    for (const d of r.differences) out.push(`  ${r.source} → ${r.target}: key ${d.key} ${d.kind}${d.columns ? ` in column${d.columns.length === 1 ? '' : 's'} ${d.columns.join(', ')}` : ''}`);
    if (r.differingRows > r.differences.length) out.push(`  ${r.source} → ${r.target}: ${r.differingRows - r.differences.length} more`);
  }
  return out.join('\n');
}
