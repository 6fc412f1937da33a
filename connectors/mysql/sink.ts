import mysql, { type PoolOptions, type SqlValue } from 'mysql2/promise';
import type { ColumnSchema, Value } from '../../topology/change-event.ts';
import { SqlSink, type SqlSinkOptions } from '../sql/sql-sink.ts';
import { mysqlComparableType } from './comparable-type.ts';
import { POSITION_COLUMN, type SqlConnection, type SqlDialect, type TargetColumn } from '../sql/dialect.ts';

/** Options of `new MySqlSink(...)`; docs/sinks.md describes the sink. */
export interface MySqlSinkOptions extends SqlSinkOptions {
  /** mysql://user:password@host:port/database — the database the target tables live in. */
  url: string;
  /** Connections in the pool: one per partition worker applying at once. */
  connections?: number;
}

/** Table of the apply locks: one row per target table, locked by the batch's transaction. */
const LOCK_TABLE = '__cdc_sink_locks';

/** Connection-level failures and lock conflicts: the batch can run again as it is. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
]);

export const mysqlDialect: SqlDialect = {
  quote: (identifier) => `\`${identifier.replaceAll('`', '``')}\``,
  qualified: (table) => mysqlDialect.quote(table),
  placeholder: () => '?',
  maxParams: 65_535,
  maxIdentifierLength: 64,
  positionType: 'VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin',

  toParam(value: Value): unknown {
    // mysql2 escapes bigint inconsistently across versions; its decimal text is exact.
    return typeof value === 'bigint' ? value.toString() : value;
  },

  // mysql2's own escaping, which its query() applies to `?` parameters (the values here are never Dates or objects, for which a connection's options would matter).
  literal: (param) => mysql.escape(param as SqlValue),

  columnType(column: ColumnSchema): string {
    const { type } = column;
    let sql = type;
    if ((type === 'enum' || type === 'set') && column.values) sql += `(${column.values.map(stringLiteral).join(', ')})`;
    else if (type === 'decimal' || type === 'numeric') sql += `(${column.precision ?? 10}, ${column.scale ?? 0})`;
    else if (['char', 'varchar', 'binary', 'varbinary', 'bit'].includes(type)) sql += `(${column.length ?? (type === 'varchar' || type === 'varbinary' ? 255 : 1)})`;
    else if (['time', 'datetime', 'timestamp'].includes(type) && column.precision) sql += `(${column.precision})`;
    if (column.unsigned) sql += ' UNSIGNED';
    if (column.charset && /char|text|enum|set/.test(type)) sql += ` CHARACTER SET ${column.charset.replace(/[^A-Za-z0-9_]/g, '')}`;
    return sql;
  },

  comparableType: mysqlComparableType,

  alterColumnStatement: (table, column, sqlType, nullable) =>
    `ALTER TABLE ${mysqlDialect.quote(table)} MODIFY COLUMN ${mysqlDialect.quote(column)} ${sqlType} ${nullable ? 'NULL' : 'NOT NULL'}`,

  async targetColumns(connection: SqlConnection, table: string): Promise<TargetColumn[]> {
    const rows = await connection.query(
      "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS sqlType, IS_NULLABLE = 'YES' AS nullable FROM information_schema.COLUMNS " +
        'WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [table],
    );
    return rows.map((row) => ({ name: String(row.name), sqlType: String(row.sqlType), nullable: Number(row.nullable) === 1 }));
  },

  uniqueKeyClause: (_table, index, columns) => `UNIQUE KEY ${mysqlDialect.quote(`uk_${index + 1}`)} (${columns.map(mysqlDialect.quote).join(', ')})`,

  async prepareLock(connection: SqlConnection, table: string): Promise<void> {
    await connection.query(`CREATE TABLE IF NOT EXISTS ${mysqlDialect.quote(LOCK_TABLE)} (target_table VARCHAR(255) NOT NULL PRIMARY KEY)`);
    await connection.query(`INSERT IGNORE INTO ${mysqlDialect.quote(LOCK_TABLE)} (target_table) VALUES (?)`, [table]);
  },

  lockStatement: (exclusive) =>
    `SELECT target_table FROM ${mysqlDialect.quote(LOCK_TABLE)} WHERE target_table = ? ${exclusive ? 'FOR UPDATE' : 'LOCK IN SHARE MODE'}`,

  upsertStatement(table, columns, keyColumns, rowsSql): string {
    const quote = mysqlDialect.quote;
    const position = quote(POSITION_COLUMN);
    // Assignments run left to right, so the position is compared before it is overwritten (last).
    const assignments = columns
      .filter((column) => column !== POSITION_COLUMN && !keyColumns.includes(column))
      .map((column) => `${quote(column)} = IF(${position} < VALUES(${position}), VALUES(${quote(column)}), ${quote(column)})`);
    assignments.push(`${position} = GREATEST(${position}, VALUES(${position}))`);
    return `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${rowsSql} ON DUPLICATE KEY UPDATE ${assignments.join(', ')}`;
  },

  tombstoneStatement(table, keyColumns, rowsSql): string {
    const quote = mysqlDialect.quote;
    const position = quote(POSITION_COLUMN);
    return (
      `INSERT INTO ${quote(table)} (${[...keyColumns, POSITION_COLUMN].map(quote).join(', ')}) VALUES ${rowsSql} ` +
      `ON DUPLICATE KEY UPDATE ${position} = GREATEST(${position}, VALUES(${position}))`
    );
  },

  overwriteStatement(table, columns, keyColumns, rowsSql): string {
    const quote = mysqlDialect.quote;
    const assignments = columns.filter((column) => !keyColumns.includes(column)).map((column) => `${quote(column)} = VALUES(${quote(column)})`);
    return `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${rowsSql} ON DUPLICATE KEY UPDATE ${assignments.join(', ')}`;
  },

  purgeStatement: (table, limit) => `DELETE FROM ${mysqlDialect.quote(table)} WHERE ${mysqlDialect.quote(POSITION_COLUMN)} < ? LIMIT ${limit}`,

  async ensurePositionIndex(connection: SqlConnection, table: string): Promise<void> {
    // MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has); a worker that lost the race meets ER_DUP_KEYNAME.
    const found = await connection.query('SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?', [table, POSITION_COLUMN]);
    if (found.length > 0) return;
    try {
      await connection.query(`CREATE INDEX ${mysqlDialect.quote(POSITION_COLUMN)} ON ${mysqlDialect.quote(table)} (${mysqlDialect.quote(POSITION_COLUMN)})`);
    } catch (error) {
      if ((error as { code?: string } | null)?.code !== 'ER_DUP_KEYNAME') throw error;
    }
  },

  isTransient(error: unknown): boolean {
    const { code, fatal } = (error ?? {}) as { code?: string; fatal?: boolean };
    return fatal === true || (code !== undefined && TRANSIENT_CODES.has(code));
  },

  isDuplicateColumn: (error) => (error as { code?: string } | null)?.code === 'ER_DUP_FIELDNAME',
};

/** A string literal for DDL (ENUM/SET members), where parameters cannot go. */
function stringLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/**
 * The pool's query formatting: a statement without parameters (the row statements: mysqlDialect.literal) is
 * sent as it is, not scanned for placeholders; one with parameters is formatted as mysql2 does by default
 * (its default time zone, 'local', is the pool's).
 */
function formatUnlessBare(sql: string, values: SqlValue[] | undefined): string {
  return values === undefined || values.length === 0 ? sql : mysql.format(sql, values);
}

/**
 * The MySQL/MariaDB sink: SqlSink over a mysql2 pool. Connections read 64-bit integers as bigint
 * and temporal values as strings (canonical values), and run at READ COMMITTED, so each statement
 * of a batch sees what earlier batches of other partitions committed (under the apply lock).
 */
export class MySqlSink extends SqlSink {
  constructor(options: MySqlSinkOptions) {
    const pool = mysql.createPool({
      uri: options.url,
      queryFormat: formatUnlessBare as unknown as PoolOptions['queryFormat'],
      connectionLimit: options.connections ?? 8,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      typeCast(field, next) {
        if (field.type === 'LONGLONG') {
          const text = field.string();
          return text === null ? null : BigInt(text);
        }
        return next();
      },
    });
    pool.on('connection', (connection) => {
      connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    });
    super(
      options,
      mysqlDialect,
      async () => {
        const connection = await pool.getConnection();
        return {
          async query(sql, params = []) {
            const [rows] = await connection.query(sql, params as SqlValue[]);
            return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
          },
          async execute(sql, params = []) {
            const [result] = await connection.query(sql, params as SqlValue[]);
            return (result as { affectedRows?: number }).affectedRows ?? 0;
          },
          release(broken) {
            if (broken) connection.destroy();
            else connection.release();
          },
        };
      },
      () => pool.end(),
    );
  }
}
