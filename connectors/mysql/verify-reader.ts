import mysql from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { ColumnSchema, Row, Value } from '../../topology/change-event.ts';
import type { KeyRange, TargetLocation, VerifySourceReader, VerifyTable, VerifyTargetReader } from '../../topology/verify-reader.ts';
import { connectionOptions } from './connection.ts';
import { estimateTableRows, listTables, readTable, splitQualifiedName } from './schema-reader.ts';
import { canonicalRowConverter } from './column-types.ts';
import { selectExpression } from './snapshot.ts';
import { keyAfterCondition, quoteIdentifier, quoteTable } from './sql.ts';
import { TableFilter } from './table-filter.ts';
import { MONGODB_INTO_SQL } from '../sql/verify-target.ts';

export interface MySqlVerifySourceOptions {
  url: string;
  include?: readonly string[];
  exclude?: readonly string[];
  /** Key columns for tables without a primary key, by `db.table` (the source's `keys`). */
  keys?: Readonly<Record<string, string[]>>;
}

export interface MySqlVerifyTargetOptions {
  /** The sink's URL: mysql://…/database. */
  url: string;
  /** Source `db.table` → target table (the sink's `tables`). */
  tableMap?: Readonly<Record<string, string>>;
}

/**
 * Reads MySQL/MariaDB rows as the source's snapshot does (its SELECT expressions, its canonical
 * conversion), so rows of a source table and of the MySQL sink's copy come out as the same values.
 */
abstract class MySqlRowReader {
  protected readonly pool: Pool;

  constructor(url: string, utcSession: boolean) {
    const pool = mysql.createPool({ ...connectionOptions(url), connectionLimit: 2 });
    // The source reads TIMESTAMP in UTC (its canonical form); the sink writes and reads in the session's default zone.
    if (utcSession) pool.on('connection', (connection) => connection.query("SET time_zone = '+00:00'"));
    this.pool = pool.promise();
  }

  /** The rows of `db`.`name` in `range`, key order, with `columns` (a subset of the table's). */
  protected async select(table: VerifyTable, columns: readonly ColumnSchema[], db: string, name: string, range: KeyRange, limit?: number): Promise<Row[]> {
    const where: string[] = [];
    const values: Value[] = [];
    const after = keyAfterCondition(table.keyColumns);
    if (range.after) {
      where.push(`(${after.sql})`);
      values.push(...after.parameters(range.after));
    }
    if (range.upTo) {
      where.push(`NOT (${after.sql})`);
      values.push(...after.parameters(range.upTo));
    }
    const sql =
      `SELECT ${columns.map(selectExpression).join(', ')} FROM ${quoteTable(db, name)}` +
      `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${table.keyColumns.map(quoteIdentifier).join(', ')}` +
      `${limit === undefined ? '' : ` LIMIT ${Number(limit)}`}`;
    const [rows] = await this.pool.query(sql, values);
    const convert = canonicalRowConverter({ db, table: name, columns: [...columns], primaryKey: table.keyColumns, uniqueKeys: [] });
    for (const row of rows as Row[]) convert?.(row);
    return rows as Row[];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export class MySqlVerifySource extends MySqlRowReader implements VerifySourceReader {
  constructor(private readonly options: MySqlVerifySourceOptions) {
    super(options.url, true);
  }

  async tables(): Promise<VerifyTable[]> {
    const names = await listTables(this.pool, new TableFilter(this.options.include, this.options.exclude));
    const estimates = await estimateTableRows(this.pool, names);
    const tables: VerifyTable[] = [];
    for (const name of names) {
      const [db, table] = splitQualifiedName(name);
      const captured = await readTable(this.pool, db, table, this.options.keys ?? {});
      if (!captured) continue;
      tables.push({ name, db, table, connector: 'mysql', keyColumns: captured.keyColumns, columns: captured.schema.columns, estimatedRows: estimates[name] ?? 0 });
    }
    return tables;
  }

  chunk(table: VerifyTable, after: readonly Value[] | undefined, limit: number): Promise<Row[]> {
    return this.select(table, table.columns, table.db, table.table, after ? { after } : {}, limit);
  }
}

export class MySqlVerifyTarget extends MySqlRowReader implements VerifyTargetReader {
  private readonly db: string;
  /** Columns of each target table, read once. */
  private readonly columns = new Map<string, Set<string>>();

  constructor(private readonly options: MySqlVerifyTargetOptions) {
    super(options.url, false);
    this.db = decodeURIComponent(new URL(options.url).pathname.slice(1));
  }

  async locate(table: VerifyTable): Promise<TargetLocation> {
    if (table.connector === 'mongodb') return { refused: MONGODB_INTO_SQL };
    const name = this.targetName(table);
    const [rows] = await this.pool.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.db, name]);
    return { name: `${this.db}.${name}`, exists: (rows as unknown[]).length > 0 };
  }

  async rows(table: VerifyTable, range: KeyRange): Promise<Row[]> {
    const name = this.targetName(table);
    let present = this.columns.get(name);
    if (!present) {
      const [rows] = await this.pool.query('SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.db, name]);
      this.columns.set(name, (present = new Set((rows as Array<{ name: string }>).map((row) => row.name))));
    }
    // A column the target lacks is left out of the rows: each row then differs in it.
    return this.select(table, table.columns.filter((column) => present.has(column.name)), this.db, name, range);
  }

  private targetName(table: VerifyTable): string {
    return this.options.tableMap?.[table.name] ?? table.table;
  }
}
