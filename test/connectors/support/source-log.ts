import type mysql from 'mysql2/promise';
import type { ChangeEvent, ColumnSchema, Row, TableSchema } from '../../../topology/change-event.ts';

/**
 * Records a workload as the binlog would see it: statements run on a real MariaDB table, and
 * AFTER INSERT/UPDATE/DELETE triggers write every row change (before and after images, in
 * execution order, one row at a time) to a log table. Log sequence numbers become the source
 * positions (zero-padded, so string order is source order, as topology/change-event.ts asks).
 * Statements the server refuses (a duplicate in a random workload) change nothing, as in the binlog.
 */
export interface RecordedWorkload {
  schema: TableSchema;
  events: ChangeEvent[];
  /** The source table after the workload, ordered by primary key: what every sink must end with. */
  finalRows: unknown[][];
}

export interface RecordOptions {
  /** `delete+create` (how sources emit a primary-key change, docs/design.md) or a `u` whose key changes. */
  keyChange?: 'delete+create' | 'update';
  /** Ignore statements the server refuses (random workloads). */
  ignoreErrors?: boolean;
}

export async function recordWorkload(
  connection: mysql.Connection,
  db: string,
  ddl: string,
  statements: readonly string[],
  options: RecordOptions = {},
): Promise<RecordedWorkload> {
  await connection.query('DROP TABLE IF EXISTS t, t_log');
  await connection.query(ddl);
  const schema = await readSchema(connection, db, 't');
  const names = schema.columns.map((column) => column.name);
  await connection.query('CREATE TABLE t_log (seq BIGINT AUTO_INCREMENT PRIMARY KEY, op CHAR(1) NOT NULL, before_image JSON NULL, after_image JSON NULL)');
  const image = (alias: string) => `JSON_OBJECT(${names.map((name) => `'${name}', ${alias}.\`${name}\``).join(', ')})`;
  await connection.query(`CREATE TRIGGER t_ins AFTER INSERT ON t FOR EACH ROW INSERT INTO t_log (op, after_image) VALUES ('c', ${image('NEW')})`);
  await connection.query(`CREATE TRIGGER t_upd AFTER UPDATE ON t FOR EACH ROW INSERT INTO t_log (op, before_image, after_image) VALUES ('u', ${image('OLD')}, ${image('NEW')})`);
  await connection.query(`CREATE TRIGGER t_del AFTER DELETE ON t FOR EACH ROW INSERT INTO t_log (op, before_image) VALUES ('d', ${image('OLD')})`);
  for (const statement of statements) {
    try {
      await connection.query(statement);
    } catch (error) {
      if (!options.ignoreErrors) throw error;
    }
  }
  const [logRows] = await connection.query('SELECT seq, op, before_image, after_image FROM t_log ORDER BY seq');
  const events: ChangeEvent[] = [];
  // mysql2 hands JSON columns back parsed.
  for (const log of logRows as Array<{ seq: number; op: 'c' | 'u' | 'd'; before_image: Row | null; after_image: Row | null }>) {
    const before = log.before_image;
    const after = log.after_image;
    const position = String(log.seq).padStart(12, '0');
    const make = (op: ChangeEvent['op'], b: Row | null, a: Row | null, at: string): ChangeEvent => ({
      op,
      key: Object.fromEntries(schema.primaryKey.map((column) => [column, ((a ?? b) as Row)[column] ?? null])),
      before: b,
      after: a,
      source: { connector: 'mysql', name: 'test', db, table: 't', position: at, tsMs: 0, snapshot: false },
      tsMs: 0,
      schema,
    });
    const keyChanged = log.op === 'u' && schema.primaryKey.some((column) => before?.[column] !== after?.[column]);
    if (keyChanged && options.keyChange !== 'update') {
      events.push(make('d', before, null, `${position}.0`), make('c', null, after, `${position}.1`));
    } else events.push(make(log.op, before, after, position));
  }
  const [finalRows] = await connection.query({ sql: `SELECT ${names.map((name) => `\`${name}\``).join(', ')} FROM t ORDER BY ${schema.primaryKey.join(', ')}`, rowsAsArray: true });
  return { schema, events, finalRows: finalRows as unknown[][] };
}

async function readSchema(connection: mysql.Connection, db: string, table: string): Promise<TableSchema> {
  const [columnRows] = await connection.query(
    'SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, table],
  );
  const columns: ColumnSchema[] = (columnRows as Array<Record<string, string | number | null>>).map((row) => ({
    name: String(row.COLUMN_NAME),
    type: String(row.DATA_TYPE),
    unsigned: String(row.COLUMN_TYPE).includes('unsigned'),
    nullable: row.IS_NULLABLE === 'YES',
    ...(row.CHARACTER_MAXIMUM_LENGTH === null ? {} : { length: Number(row.CHARACTER_MAXIMUM_LENGTH) }),
    ...(row.DATA_TYPE === 'decimal' ? { precision: Number(row.NUMERIC_PRECISION), scale: Number(row.NUMERIC_SCALE) } : {}),
  }));
  const [indexRows] = await connection.query(
    'SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [db, table],
  );
  const indexes = new Map<string, string[]>();
  for (const row of indexRows as Array<{ INDEX_NAME: string; COLUMN_NAME: string }>) {
    indexes.set(row.INDEX_NAME, [...(indexes.get(row.INDEX_NAME) ?? []), row.COLUMN_NAME]);
  }
  return {
    db,
    table,
    columns,
    primaryKey: indexes.get('PRIMARY') ?? [],
    uniqueKeys: [...indexes.entries()].filter(([name]) => name !== 'PRIMARY').map(([, keyColumns]) => keyColumns),
  };
}
