import pg from 'pg';
import type { ColumnSchema, Row, Value } from '../../topology/change-event.ts';
import type { KeyRange, TargetLocation, VerifyTable, VerifyTargetReader } from '../../topology/verify-reader.ts';
import { MONGODB_INTO_SQL } from '../sql/verify-target.ts';
import { canonicalFromPostgres, canonicalTypes, postgresDialect } from './sink.ts';
import { sqlConnection } from './connection.ts';

export interface PostgresVerifyTargetOptions {
  url: string;
  /** The sink's schema (default `public`). */
  schema?: string;
  /** Source `db.table` → target table (the sink's `tables`). */
  tableMap?: Readonly<Record<string, string>>;
}

/** Reads what the PostgreSQL sink wrote, back into the canonical values of the source's columns. */
export class PostgresVerifyTarget implements VerifyTargetReader {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly dialect;
  /** Columns of each target table, read once. */
  private readonly columns = new Map<string, Set<string>>();

  constructor(private readonly options: PostgresVerifyTargetOptions) {
    this.schema = options.schema ?? 'public';
    this.dialect = postgresDialect(this.schema);
    // TIMESTAMP columns (timestamptz) read in UTC, the zone of their canonical text.
    this.pool = new pg.Pool({ connectionString: options.url, max: 2, types: canonicalTypes as pg.CustomTypesConfig, options: '-c TimeZone=UTC' });
    this.pool.on('error', () => {});
  }

  async locate(table: VerifyTable): Promise<TargetLocation> {
    if (table.connector === 'mongodb') return { refused: MONGODB_INTO_SQL };
    const name = this.targetName(table);
    return { name: `${this.schema}.${name}`, exists: (await this.targetColumns(name)).size > 0 };
  }

  async rows(table: VerifyTable, range: KeyRange): Promise<Row[]> {
    const name = this.targetName(table);
    const present = await this.targetColumns(name);
    // A column the target lacks is left out of the rows: each row then differs in it.
    const columns = table.columns.filter((column) => present.has(column.name));
    const byName = new Map(table.columns.map((column) => [column.name, column]));
    const params: unknown[] = [];
    const tuple = (values: readonly Value[]) =>
      `(${values.map((value, i) => `$${params.push(this.dialect.toParam(value, byName.get(table.keyColumns[i]!)))}`).join(', ')})`;
    const key = `(${table.keyColumns.map(this.dialect.quote).join(', ')})`;
    const where = [...(range.after ? [`${key} > ${tuple(range.after)}`] : []), ...(range.upTo ? [`${key} <= ${tuple(range.upTo)}`] : [])];
    const sql =
      `SELECT ${columns.map(selectExpression(this.dialect.quote)).join(', ')} FROM ${this.dialect.qualified(name)}` +
      `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${table.keyColumns.map(this.dialect.quote).join(', ')}`;
    const result = await this.pool.query(sql, params);
    return (result.rows as Record<string, unknown>[]).map((row) => Object.fromEntries(columns.map((column) => [column.name, canonicalFromPostgres(row[column.name], column)])));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private targetName(table: VerifyTable): string {
    return this.options.tableMap?.[table.name] ?? table.table;
  }

  private async targetColumns(name: string): Promise<Set<string>> {
    let known = this.columns.get(name);
    if (!known) {
      const connection = sqlConnection(await this.pool.connect());
      try {
        known = new Set((await this.dialect.targetColumns(connection, name)).map((column) => column.name));
      } finally {
        connection.release(false);
      }
      if (known.size > 0) this.columns.set(name, known);
    }
    return known;
  }
}

/** JSON (jsonb) is read as its text: the value the comparison parses, as it does the source's JSON text. */
function selectExpression(quote: (identifier: string) => string): (column: ColumnSchema) => string {
  return (column) => (column.type === 'json' ? `${quote(column.name)}::text AS ${quote(column.name)}` : quote(column.name));
}
