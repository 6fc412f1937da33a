import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ColumnSchema, Value } from '../../topology/change-event.ts';
import { SqlSink, type SqlSinkOptions } from '../sql/sql-sink.ts';
import { postgresComparableType } from './comparable-type.ts';
import { POSITION_COLUMN, type SqlConnection, type SqlDialect, type TargetColumn } from '../sql/dialect.ts';
import { sqlConnection } from './connection.ts';

/** Options of `new PostgresSink(...)`; docs/sinks.md describes the sink. */
export interface PostgresSinkOptions extends SqlSinkOptions {
  /** postgresql://user:password@host:port/database */
  url: string;
  /** Schema the target tables live in (default `public`). */
  schema?: string;
  /** Connections in the pool: one per partition worker applying at once. */
  connections?: number;
}

/**
 * MySQL type of the source → PostgreSQL type of the target.
 *
 * | MySQL                                   | PostgreSQL                  | why                                            |
 * |-----------------------------------------|-----------------------------|------------------------------------------------|
 * | tinyint, smallint, year                 | smallint                    | (unsigned smallint → integer)                  |
 * | mediumint, int                          | integer                     | (unsigned int → bigint)                        |
 * | bigint                                  | bigint                      | (unsigned bigint → numeric(20,0): no uint64)   |
 * | decimal(p,s)                            | numeric(p,s)                | exact                                          |
 * | float / double                          | real / double precision     |                                                |
 * | bit(n)                                  | bytea                       | the canonical value is the big-endian Buffer   |
 * | date                                    | date                        | zero dates are rejected rows                   |
 * | time(p)                                 | interval                    | MySQL TIME spans -838:59:59..838:59:59         |
 * | datetime(p)                             | timestamp(p)                |                                                |
 * | timestamp(p)                            | timestamptz(p)              | canonical value is UTC                         |
 * | char(n), varchar(n)                     | varchar(n)                  | no blank padding, as MySQL reads CHAR          |
 * | tinytext..longtext, enum, set           | text                        | SET as its comma-separated members             |
 * | json                                    | jsonb                       |                                                |
 * | binary, varbinary, tinyblob..longblob   | bytea                       |                                                |
 * | anything else (geometry, ...)           | bytea                       |                                                |
 */
export function postgresType(column: ColumnSchema): string {
  const unsigned = column.unsigned === true;
  switch (column.type) {
    case 'tinyint':
    case 'year':
      return 'smallint';
    case 'smallint':
      return unsigned ? 'integer' : 'smallint';
    case 'mediumint':
      return 'integer';
    case 'int':
    case 'integer':
      return unsigned ? 'bigint' : 'integer';
    case 'bigint':
      return unsigned ? 'numeric(20,0)' : 'bigint';
    case 'decimal':
    case 'numeric':
      return `numeric(${column.precision ?? 10},${column.scale ?? 0})`;
    case 'float':
      return 'real';
    case 'double':
      return 'double precision';
    case 'date':
      return 'date';
    case 'time':
      return 'interval';
    case 'datetime':
      return column.precision ? `timestamp(${column.precision})` : 'timestamp(0)';
    case 'timestamp':
      return column.precision ? `timestamptz(${column.precision})` : 'timestamptz(0)';
    case 'char':
    case 'varchar':
      return `varchar(${column.length ?? 255})`;
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
      return 'text';
    case 'json':
      return 'jsonb';
    default:
      return 'bytea';
  }
}

/**
 * A value read back from a column that {@link postgresType} made → the canonical value the sink wrote
 * (the reverse of that table and of the dialect's `toParam`), given reads with {@link canonicalTypes}
 * in a UTC session and JSON selected as text.
 */
export function canonicalFromPostgres(value: unknown, column: ColumnSchema): Value {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'bigint':
      return typeof value === 'bigint' ? value : BigInt(String(value)); // unsigned: numeric(20,0) text
    case 'int':
    case 'integer':
      return column.unsigned ? Number(value) : (value as number); // unsigned: bigint
    case 'time':
    case 'datetime':
      return withFraction(String(value), column.precision ?? 0);
    case 'timestamp':
      return withFraction(String(value).replace(/\+00$/, ''), column.precision ?? 0);
    case 'uuid':
    case 'inet4':
    case 'inet6':
      // Text kept in bytea (the type table's default): its bytes are the text's.
      return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    default:
      return value as Value;
  }
}

/** PostgreSQL drops trailing fraction zeros that MySQL's `fsp` digits keep: '12:00:00.5' → '12:00:00.500' (fsp 3). */
function withFraction(text: string, digits: number): string {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  return digits === 0 ? whole : `${whole}.${(dot < 0 ? '' : text.slice(dot + 1)).padEnd(digits, '0')}`;
}

/**
 * Connection-level failures, shutdowns and serialisation conflicts (SQLSTATE classes 08, 57P, 40), and
 * two connections creating one table at once: PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe under
 * concurrency, and the loser meets the winner's catalog row (23505 on pg_type or pg_class, 42P07, or
 * 42710 `type "…" already exists` for the table's row type when the winner committed in between); a retry
 * finds the table there.
 */
function isTransientPostgres(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string };
  if (code === undefined) return error instanceof Error && /Connection terminated|timeout exceeded when trying to connect/i.test(error.message);
  if (code === '42P07' || code === '42710' || (code === '23505' && /^pg_(type|class)_/.test(constraint ?? ''))) return true;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '53300', '55P03'].includes(code) ||
    /^(08|57P|40)/.test(code)
  );
}

export function postgresDialect(schema: string): SqlDialect {
  const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
  const position = quote(POSITION_COLUMN);
  return {
    quote,
    qualified: (table) => `${quote(schema)}.${quote(table)}`,
    placeholder: (index) => `$${index}`,
    maxParams: 65_535,
    maxIdentifierLength: 63,
    positionType: 'text COLLATE "C"',

    toParam(value: Value, column: ColumnSchema | undefined): unknown {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string' && column?.type === 'timestamp') return `${value}+00`;
      return value;
    },

    columnType: postgresType,
    comparableType: postgresComparableType,

    alterColumnStatement: (table, column, sqlType, nullable) =>
      `ALTER TABLE ${quote(schema)}.${quote(table)} ALTER COLUMN ${quote(column)} TYPE ${sqlType}${nullable ? `, ALTER COLUMN ${quote(column)} DROP NOT NULL` : ''}`,

    async targetColumns(connection: SqlConnection, table: string): Promise<TargetColumn[]> {
      const rows = await connection.query(
        'SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS "sqlType", NOT a.attnotnull AS nullable FROM pg_attribute a ' +
          'JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace ' +
          'WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum',
        [schema, table],
      );
      return rows.map((row) => ({ name: String(row.name), sqlType: String(row.sqlType), nullable: row.nullable === true }));
    },

    uniqueKeyClause: (table, index, columns) => `CONSTRAINT ${quote(`${table.slice(0, 50)}_uk_${index + 1}`)} UNIQUE (${columns.map(quote).join(', ')})`,

    prepareLock: async () => {},

    // A transaction-scoped advisory lock named by the table: released by COMMIT/ROLLBACK.
    lockStatement: (exclusive) => `SELECT ${exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(hashtext($1))`,

    upsertStatement(table, columns, keyColumns, rowsSql): string {
      const assignments = columns.filter((column) => !keyColumns.includes(column)).map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`);
      return (
        `INSERT INTO ${quote(schema)}.${quote(table)} AS t (${columns.map(quote).join(', ')}) VALUES ${rowsSql} ` +
        `ON CONFLICT (${keyColumns.map(quote).join(', ')}) DO UPDATE SET ${assignments.join(', ')} WHERE t.${position} < EXCLUDED.${position}`
      );
    },

    tombstoneStatement(table, keyColumns, rowsSql): string {
      return (
        `INSERT INTO ${quote(schema)}.${quote(table)} AS t (${[...keyColumns, POSITION_COLUMN].map(quote).join(', ')}) VALUES ${rowsSql} ` +
        `ON CONFLICT (${keyColumns.map(quote).join(', ')}) DO UPDATE SET ${position} = GREATEST(t.${position}, EXCLUDED.${position})`
      );
    },

    overwriteStatement(table, columns, keyColumns, rowsSql): string {
      const assignments = columns.filter((column) => !keyColumns.includes(column)).map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`);
      return `INSERT INTO ${quote(schema)}.${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${rowsSql} ON CONFLICT (${keyColumns.map(quote).join(', ')}) DO UPDATE SET ${assignments.join(', ')}`;
    },

    // PostgreSQL's DELETE has no LIMIT: the rows go by their physical ids, found through the position index.
    purgeStatement: (table, limit) => {
      const qualified = `${quote(schema)}.${quote(table)}`;
      return `DELETE FROM ${qualified} WHERE ctid IN (SELECT ctid FROM ${qualified} WHERE ${position} < $1 LIMIT ${limit})`;
    },

    async ensurePositionIndex(connection: SqlConnection, table: string): Promise<void> {
      // Index names are per schema: named after the table, hashed so that any table name fits in 63 characters.
      const name = `__cdc_pos_${createHash('sha256').update(table).digest('hex').slice(0, 16)}`;
      try {
        await connection.query(`CREATE INDEX IF NOT EXISTS ${quote(name)} ON ${quote(schema)}.${quote(table)} (${position})`);
      } catch (error) {
        // Two workers creating it at once: one of them meets the other's catalog row.
        if (!['23505', '42P07'].includes((error as { code?: string } | null)?.code ?? '')) throw error;
      }
    },

    isTransient: isTransientPostgres,
    isDuplicateColumn: (error) => (error as { code?: string } | null)?.code === '42701',
  };
}

/** Canonical values from reads: int8 as bigint, temporal types as their text. */
export const canonicalTypes = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === pg.types.builtins.INT8) return (value: string) => BigInt(value);
    if ([pg.types.builtins.DATE, pg.types.builtins.TIMESTAMP, pg.types.builtins.TIMESTAMPTZ, pg.types.builtins.INTERVAL].includes(oid)) return (value: string) => value;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** The PostgreSQL sink: SqlSink over a pg pool (READ COMMITTED, the server's default). */
export class PostgresSink extends SqlSink {
  constructor(options: PostgresSinkOptions) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.connections ?? 8, types: canonicalTypes as pg.CustomTypesConfig });
    // An idle client that loses its server emits 'error': the pool drops it, and the next batch reconnects.
    pool.on('error', () => {});
    super(
      options,
      postgresDialect(options.schema ?? 'public'),
      async () => sqlConnection(await pool.connect()),
      () => pool.end(),
    );
  }
}
