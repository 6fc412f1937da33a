import { POSITION_COLUMN, type SqlConnection, type SqlDialect } from './dialect.ts';

/** One row per target table: the source position of the newest schema the sink made the table follow. */
const SCHEMA_TABLE = '__cdc_sink_schemas';

/**
 * Where the sink keeps, in the target, which schema each managed table follows. Partitions deliver a
 * table's rows in source order each, not together: after an ALTER, one partition may still bring rows
 * (and the schema) from before it, also after a restart. A schema older than the recorded one is not
 * compared with the target, whose columns already hold more; a newer one that holds less is a narrowing.
 */
export class SchemaPositions {
  private prepared = false;

  constructor(private readonly dialect: SqlDialect) {}

  /** The recorded position of `table`'s schema; none when the sink never changed it (or did before it kept them). */
  async read(connection: SqlConnection, table: string): Promise<string | undefined> {
    await this.prepare(connection);
    const rows = await connection.query(
      `SELECT ${this.dialect.quote(POSITION_COLUMN)} FROM ${this.dialect.qualified(SCHEMA_TABLE)} WHERE ${this.dialect.quote('target_table')} = ${this.dialect.placeholder(1)}`,
      [table],
    );
    return rows.length > 0 ? String(rows[0]![POSITION_COLUMN]) : undefined;
  }

  /** Records that `table` follows the schema in force at `position` (never going back); returns the position kept. */
  async record(connection: SqlConnection, table: string, position: string | undefined): Promise<string | undefined> {
    if (position === undefined) return this.read(connection, table);
    await this.prepare(connection);
    const rowsSql = `(${this.dialect.placeholder(1)}, ${this.dialect.placeholder(2)})`;
    await connection.query(this.dialect.tombstoneStatement(SCHEMA_TABLE, ['target_table'], rowsSql), [table, position]);
    return this.read(connection, table);
  }

  private async prepare(connection: SqlConnection): Promise<void> {
    if (this.prepared) return;
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${this.dialect.qualified(SCHEMA_TABLE)} (${this.dialect.quote('target_table')} VARCHAR(255) NOT NULL PRIMARY KEY, ` +
        `${this.dialect.quote(POSITION_COLUMN)} ${this.dialect.positionType} NOT NULL)`,
    );
    this.prepared = true;
  }
}
