import { POSITION_COLUMN, type SqlConnection, type SqlDialect } from './dialect.ts';

/**
 * A side table in the target with one position per target table, that never goes back. The SQL sink
 * keeps two:
 * - `__cdc_sink_schemas`: the position of the newest schema the sink made each managed table follow.
 *   Partitions deliver a table's rows in source order each, not together: after an ALTER, one
 *   partition may still bring rows (and the schema) from before it, also after a restart. A schema
 *   older than the recorded one is not compared with the target, whose columns already hold more; a
 *   newer one that holds less is a narrowing.
 * - `__cdc_sink_truncates`: the truncate floor, the position of the newest `t` applied to each table.
 *   Every row its source wrote before it is gone, so a row event older than it is skipped wherever it
 *   comes in its partition (docs/sinks.md, truncates).
 */
export class TablePositions {
  private prepared = false;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly sideTable: string,
  ) {}

  /** The recorded position of `table`; none when the sink never recorded one. */
  async read(connection: SqlConnection, table: string): Promise<string | undefined> {
    await this.prepare(connection);
    const rows = await connection.query(
      `SELECT ${this.dialect.quote(POSITION_COLUMN)} FROM ${this.dialect.qualified(this.sideTable)} WHERE ${this.dialect.quote('target_table')} = ${this.dialect.placeholder(1)}`,
      [table],
    );
    return rows.length > 0 ? String(rows[0]![POSITION_COLUMN]) : undefined;
  }

  /** Records `position` for `table` (never going back); returns the position kept. */
  async record(connection: SqlConnection, table: string, position: string | undefined): Promise<string | undefined> {
    if (position === undefined) return this.read(connection, table);
    await this.prepare(connection);
    const rowsSql = `(${this.dialect.placeholder(1)}, ${this.dialect.placeholder(2)})`;
    await connection.query(this.dialect.tombstoneStatement(this.sideTable, ['target_table'], rowsSql), [table, position]);
    return this.read(connection, table);
  }

  /** Creates the side table once per process; DDL, so never inside a batch's transaction (MySQL would commit it). */
  async prepare(connection: SqlConnection): Promise<void> {
    if (this.prepared) return;
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${this.dialect.qualified(this.sideTable)} (${this.dialect.quote('target_table')} VARCHAR(255) NOT NULL PRIMARY KEY, ` +
        `${this.dialect.quote(POSITION_COLUMN)} ${this.dialect.positionType} NOT NULL)`,
    );
    this.prepared = true;
  }
}
