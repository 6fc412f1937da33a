import { createHash } from 'node:crypto';
import type { ColumnSchema, Row, TableSchema, Value } from '../../topology/change-event.ts';
import { comparePositions } from '../../topology/change-event.ts';
import { CdcError, TransientError } from '../../topology/errors.ts';
import type { ApplyResult, RejectedRecord, SinkConnector, SinkContext, SinkRecord } from '../../topology/sink.ts';
import { encodeValues, newerThanTruncate, reduceBatch, skippedRecords, TRUNCATE_FLOORS, type KeyAction, type TableActions } from '../sink/key-actions.ts';
import { lastPositions, PROGRESS_TABLE, purgeSettings, TombstonePurger, type PartitionProgress, type PurgeTarget, type TombstoneSettings } from '../sink/tombstone-purge.ts';
import { staleClaimants, type Claimant, type UniqueClaim } from '../sink/unique-claims.ts';
import { silentLogger, type Logger } from '../../topology/log.ts';
import { POSITION_COLUMN, type SqlConnection, type SqlDialect, type TargetColumn } from './dialect.ts';
import { planSchemaChange } from './schema-evolution.ts';
import { TablePositions } from './table-positions.ts';

export interface SqlSinkOptions {
  name: string;
  /** Source `db.table` → target table name; a table not listed keeps its source table name. */
  tableMap?: Record<string, string>;
  /**
   * Create a missing target table from the events' TableSchema, and make it follow newer schemas: add
   * new columns, widen widened ones (docs/sinks.md). Off: the tables must exist (the sink still adds its
   * position column and tombstone table, without which it cannot be idempotent), and a column that no
   * longer holds the source's is only logged.
   */
  manageTables?: boolean;
  /** When tombstones are purged (docs/sinks.md); by default after 24 h, checked every minute. */
  tombstones?: Partial<TombstoneSettings>;
  /** Where the sink says what it changed in a target, or what it would have to (silent by default). */
  log?: Logger;
}

/** What the sink knows about one target table. */
interface Target {
  /** The source whose table this is (its positions are the ones stored). */
  source: string;
  table: string;
  tombstones: string;
  keyColumns: string[];
  uniqueKeys: string[][];
  /** Columns the target has, by name. */
  columns: Map<string, ColumnSchema | undefined>;
  /** The newest source schema the target was checked against, and the position of the event that carried it. */
  schema: TableSchema | undefined;
  schemaPosition: string | undefined;
}

/** A row already in the target that holds a unique value an incoming row wants. */
interface Holder extends Claimant {
  key: Value[];
}

/**
 * The SQL sink: one algorithm for every SQL target, with what differs in a SqlDialect.
 *
 * State kept in the target, per target table `t`:
 * - `t.__cdc_pos`: the source position of the event that wrote each row (a hidden column rather
 *   than a side table, so that the rows found by a unique value come with their position in the
 *   same read);
 * - `t__cdc_tombstones (key columns, __cdc_pos)`: the position of keys that are absent (deleted, or
 *   removed as stale). A key's position never goes back, so every key is a last-writer-wins
 *   register: without tombstones, a delete followed by the replay of an older insert of the same key
 *   (a suffix of its partition replayed) would bring the row back for a while, and that row could
 *   in turn push out, by the unique-key rule, a row that is current. Tombstones make the rule hold
 *   at every step, not only once the replay is over;
 * - `__cdc_sink_truncates (target_table, __cdc_pos)`: the table's truncate floor, the position of the
 *   newest `t` applied (recorded also for a table with no target yet).
 *
 * One batch is one transaction. Per target table, after taking the table's apply lock:
 * 0. apply the batch's truncate, if any; read the floor; drop every action older than it;
 * 1. read the stored positions of the batch's keys; drop every action that is not newer;
 * 2. read the rows that hold a unique value an incoming row wants; `staleClaimants` decides;
 * 3. delete removed rows, write tombstones, upsert the winners (multi-row statements).
 * A table's group of statements runs under a savepoint; if the target rejects something, the group
 * is rolled back and run again one key at a time, and the keys the target still rejects are
 * returned for the dead-letter topic.
 */
export class SqlSink implements SinkConnector, PurgeTarget {
  readonly name: string;
  /** Set at start when tombstones are purged: the progress rows to write, and the background purge. */
  private tracking?: { context: SinkContext; purger: TombstonePurger };
  private readonly targets = new Map<string, Target>();
  /** Target set-ups under way: partition workers of one process share one (DDL must not race itself). */
  private readonly settingUp = new Map<string, Promise<Target>>();
  private readonly schemaPositions: TablePositions;
  /** Per target table, the position of the newest truncate applied (`TRUNCATE_FLOORS`). */
  private readonly truncateFloors: TablePositions;
  /** Columns of unmanaged targets already logged as too narrow: one line each, not one per batch. */
  private readonly unmanagedNotes = new Set<string>();

  constructor(
    private readonly options: SqlSinkOptions,
    private readonly dialect: SqlDialect,
    private readonly connect: () => Promise<SqlConnection>,
    private readonly end: () => Promise<void>,
  ) {
    this.name = options.name;
    this.schemaPositions = new TablePositions(dialect, '__cdc_sink_schemas');
    this.truncateFloors = new TablePositions(dialect, TRUNCATE_FLOORS);
  }

  async start(context?: SinkContext): Promise<void> {
    const connection = await this.connection();
    const settings = purgeSettings(this.options.tombstones, context);
    let broken = false;
    try {
      if (settings && context) {
        await this.createProgressTable(connection);
        this.tracking = { context, purger: new TombstonePurger(settings, context, this) };
        this.tracking.purger.start();
      }
    } catch (error) {
      broken = this.dialect.isTransient(error);
      throw this.asCdcError(error);
    } finally {
      connection.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.tracking?.purger.stop();
    await this.end();
  }

  /** One purge pass at `now` (the background purge runs one every purge interval); nothing when the sink does not purge. */
  async purgeTombstones(now: number): Promise<void> {
    await this.tracking?.purger.pass(now);
  }

  async readProgress(): Promise<PartitionProgress[]> {
    const { topic } = this.tracking!.context;
    const connection = await this.connection();
    try {
      const quote = (column: string) => this.dialect.quote(column);
      const rows = await connection.query(
        `SELECT ${quote('source')}, ${quote('partition')}, ${quote(POSITION_COLUMN)} FROM ${this.dialect.qualified(PROGRESS_TABLE)} ` +
          `WHERE ${quote('topic')} = ${this.dialect.placeholder(1)} AND ${quote('sink')} = ${this.dialect.placeholder(2)}`,
        [topic, this.name],
      );
      return rows.map((row) => ({ source: String(row.source), partition: Number(row.partition), position: String(row[POSITION_COLUMN]) }));
    } finally {
      connection.release(false);
    }
  }

  /**
   * Each batch of deletes is one short transaction that holds the table's apply lock, exclusive: no
   * apply of the table holds tombstone rows meanwhile, so the two never wait on each other in a cycle
   * (an apply takes all its apply locks before any row), and an apply waits at most one batch.
   */
  async purgeBelow(source: string, floor: string, batchSize: number, purged: (table: string, count: number) => void): Promise<void> {
    for (const target of [...this.targets.values()].filter((target) => target.source === source)) {
      let deleted = batchSize;
      while (deleted === batchSize) {
        const connection = await this.connection();
        let broken = false;
        try {
          await connection.query('BEGIN');
          try {
            await connection.query(this.dialect.lockStatement(true), [target.table]);
            deleted = await connection.execute(this.dialect.purgeStatement(target.tombstones, batchSize), [floor]);
            await connection.query('COMMIT');
          } catch (error) {
            await connection.query('ROLLBACK').catch(() => {
              broken = true;
            });
            throw error;
          }
        } catch (error) {
          broken ||= this.dialect.isTransient(error);
          throw this.asCdcError(error);
        } finally {
          connection.release(broken);
        }
        purged(target.table, deleted);
      }
    }
  }

  private async createProgressTable(connection: SqlConnection): Promise<void> {
    const text = this.dialect.positionType;
    const quote = (column: string) => this.dialect.quote(column);
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${this.dialect.qualified(PROGRESS_TABLE)} (${quote('topic')} ${text} NOT NULL, ${quote('sink')} ${text} NOT NULL, ` +
        `${quote('source')} ${text} NOT NULL, ${quote('partition')} INTEGER NOT NULL, ${quote(POSITION_COLUMN)} ${text} NOT NULL, ` +
        `PRIMARY KEY (${['topic', 'sink', 'source', 'partition'].map(quote).join(', ')}))`,
    );
  }

  /** The batch's partition has applied up to its last record of each source (in the batch's transaction). */
  private async recordProgress(connection: SqlConnection, batch: readonly SinkRecord[]): Promise<void> {
    const { topic } = this.tracking!.context;
    const params: unknown[] = [];
    const rowsSql = [...lastPositions(batch)]
      .map(([source, position]) => `(${[topic, this.name, source, batch[0]!.partition, position].map((value) => this.param(params, value, undefined)).join(', ')})`)
      .join(', ');
    await connection.query(this.dialect.overwriteStatement(PROGRESS_TABLE, ['topic', 'sink', 'source', 'partition', POSITION_COLUMN], ['topic', 'sink', 'source', 'partition'], rowsSql), params);
  }

  async apply(batch: readonly SinkRecord[]): Promise<ApplyResult> {
    const { tables, rejected } = reduceBatch(batch);
    if (tables.length === 0) return { rejected, skipped: skippedRecords(batch, new Set(), rejected) };
    const applied = new Set<SinkRecord>();
    const connection = await this.connection();
    let broken = false;
    try {
      const work: Array<{ target: Target; table: TableActions }> = [];
      /** Truncates of tables that have no target yet: their floors are recorded all the same. */
      const bare: Array<{ name: string; position: string }> = [];
      for (const table of tables) {
        if (table.actions.length === 0 && !(await this.hasTarget(connection, table))) {
          const name = this.targetName(`${table.sourceDb}.${table.sourceTable}`, table);
          await this.dialect.prepareLock(connection, name);
          bare.push({ name, position: table.truncatedBefore! });
        } else work.push({ target: await this.target(connection, table), table });
      }
      await this.truncateFloors.prepare(connection);
      const locks = [
        ...work.map(({ target, table }) => ({
          name: target.table,
          exclusive: target.uniqueKeys.length > 0 || table.truncatedBefore !== undefined || table.actions.some(removesAnotherPartitionsKey),
        })),
        ...bare.map(({ name }) => ({ name, exclusive: true })),
      ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      await connection.query('BEGIN');
      try {
        // Locks in table-name order, all before any write: two batches never wait on each other in a cycle.
        for (const { name, exclusive } of locks) await connection.query(this.dialect.lockStatement(exclusive), [name]);
        for (const { name, position } of bare) {
          await this.truncateFloors.record(connection, name, position);
          // Another process may have made the target since hasTarget looked, and written older rows in it.
          if ((await this.dialect.targetColumns(connection, name)).some((column) => column.name === POSITION_COLUMN)) await this.truncate(connection, name, position);
        }
        for (const { target, table } of work) {
          if (table.truncatedBefore !== undefined) {
            await this.truncate(connection, target.table, table.truncatedBefore);
            await this.truncateFloors.record(connection, target.table, table.truncatedBefore);
          }
          // Read under the table's lock: a truncate of another batch committed before it, or waits for this one.
          const floor = await this.truncateFloors.read(connection, target.table);
          rejected.push(...(await this.applyTable(connection, target, newerThanTruncate(table.actions, floor), applied)));
        }
        if (this.tracking) await this.recordProgress(connection, batch);
        await connection.query('COMMIT');
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
      return { rejected, skipped: skippedRecords(batch, applied, rejected) };
    } catch (error) {
      broken ||= this.dialect.isTransient(error);
      throw this.asCdcError(error);
    } finally {
      connection.release(broken);
    }
  }

  private async connection(): Promise<SqlConnection> {
    try {
      return await this.connect();
    } catch (error) {
      throw this.asCdcError(error);
    }
  }

  private asCdcError(error: unknown): unknown {
    if (error instanceof CdcError) return error;
    if (this.dialect.isTransient(error)) return new TransientError(`${this.name}: ${describe(error)}`, { cause: error });
    return error;
  }

  /**
   * A `t` event: the rows its source wrote before `position` go, and the table's truncate floor keeps
   * out the older rows still to come. Rows the sink did not write (no position) stay, and so do
   * tombstones: older than the floor, no row they guard can be applied any more.
   */
  private async truncate(connection: SqlConnection, table: string, position: string): Promise<void> {
    await connection.query(`DELETE FROM ${this.dialect.qualified(table)} WHERE ${this.dialect.quote(POSITION_COLUMN)} < ${this.dialect.placeholder(1)}`, [position]);
  }

  /** Applies one table's actions; adds to `applied` the records of the actions newer than the target's positions. */
  private async applyTable(connection: SqlConnection, target: Target, actions: readonly KeyAction[], applied: Set<SinkRecord>): Promise<RejectedRecord[]> {
    await connection.query('SAVEPOINT cdc_table');
    try {
      for (const action of await this.applyActions(connection, target, actions, false)) applied.add(action.record);
      return [];
    } catch (error) {
      if (this.dialect.isTransient(error)) throw error;
      await connection.query('ROLLBACK TO SAVEPOINT cdc_table');
    }
    const rejected: RejectedRecord[] = [];
    for (const action of actions) {
      await connection.query('SAVEPOINT cdc_key');
      try {
        for (const newer of await this.applyActions(connection, target, [action], true)) applied.add(newer.record);
      } catch (error) {
        if (this.dialect.isTransient(error)) throw error;
        await connection.query('ROLLBACK TO SAVEPOINT cdc_key');
        rejected.push({ record: action.record, reason: describe(error) });
      }
    }
    return rejected;
  }

  /**
   * Applies actions (one per key) under the table's lock. With `alone`, there is one action and
   * every row the target finds on its unique values collides with it, whatever the comparison the
   * target's collation makes (a batch compares values exactly, and falls back to `alone` when the
   * target finds a collision that exact comparison did not). Returns the actions newer than what the
   * target held: the others are skipped.
   */
  private async applyActions(connection: SqlConnection, target: Target, actions: readonly KeyAction[], alone: boolean): Promise<KeyAction[]> {
    const stored = await this.stored(connection, target, actions);
    const newer = actions.filter((action) => {
      const position = stored.positions.get(action.keyId);
      return position === undefined || comparePositions(position, action.position) < 0;
    });
    if (newer.length === 0) return newer;
    const deletes = newer.filter((action) => action.row === null);
    const upserts = newer.filter((action) => action.row !== null);

    const holders = await this.holders(connection, target, upserts, newer);
    const claims: UniqueClaim<KeyAction | Holder>[] = [];
    for (const action of upserts) {
      target.uniqueKeys.forEach((columns, uniqueKey) => {
        const valueId = uniqueValueId(action.row as Row, columns);
        if (valueId !== null) claims.push({ uniqueKey, valueId, claimant: action });
      });
    }
    for (const { uniqueKey, holder, valueId } of holders) {
      claims.push({ uniqueKey, valueId: alone ? (uniqueValueId(upserts[0]!.row as Row, target.uniqueKeys[uniqueKey]!) as string) : valueId, claimant: holder });
    }
    const stale = staleClaimants(claims);
    const skipped = upserts.filter((action) => stale.has(action));
    const written = upserts.filter((action) => !stale.has(action));
    const displaced = uniqueByKey(holders.map(({ holder }) => holder).filter((holder) => stale.has(holder)));

    // Rows to take out before the inserts: absent keys, stale rows, and, where unique values can
    // move between rows, the old rows of written keys (their old values must not collide).
    // Only keys that have a row (a tombstone) are named in the DELETEs: a long IN list of absent keys
    // can make the target scan the table, locking other partitions' rows on the way (deadlocks).
    const removed = [...present(stored.rows, [...deletes, ...skipped, ...(target.uniqueKeys.length > 0 ? written : [])]), ...displaced];
    await this.deleteKeys(connection, target, target.table, removed.map((row) => row.key));
    // A skipped write records its own position: its key has a newer event still to come, and a
    // replay of the skipped event must not be applied. A stale row keeps its own position.
    await this.writeTombstones(connection, target, [...deletes, ...skipped, ...displaced]);
    await this.deleteKeys(connection, target, target.tombstones, present(stored.tombstones, written).map((action) => action.key));
    await this.upsertRows(connection, target, written);
    return newer;
  }

  /** What the target holds for the batch's keys (read under the table's apply lock, so it stays so until the commit). */
  private async stored(connection: SqlConnection, target: Target, actions: readonly KeyAction[]): Promise<StoredKeys> {
    const batchKeys = new Set(actions.map((action) => action.keyId));
    const positions = new Map<string, string>();
    const found: Array<Set<string> | undefined> = [];
    for (const table of [target.table, target.tombstones]) {
      let keys: Set<string> | undefined = new Set<string>();
      for (const chunk of this.chunks(actions, target.keyColumns.length)) {
        const params: unknown[] = [];
        const keyColumns = target.keyColumns.map((column) => this.dialect.quote(column));
        const sql =
          `SELECT ${[...keyColumns, this.dialect.quote(POSITION_COLUMN)].join(', ')} FROM ${this.dialect.qualified(table)} ` +
          `WHERE ${this.inList(target.keyColumns, chunk.map((action) => action.key), params, target)}`;
        for (const row of await connection.query(sql, params)) {
          const keyId = encodeValues(target.keyColumns.map((column) => row[column]));
          const position = String(row[POSITION_COLUMN]);
          const known = positions.get(keyId);
          if (known === undefined || comparePositions(known, position) < 0) positions.set(keyId, position);
          // A key the batch does not name exactly, found by the target's collation: any key may be present.
          keys = keys && batchKeys.has(keyId) ? keys.add(keyId) : undefined;
        }
      }
      found.push(keys);
    }
    return { positions, rows: found[0], tombstones: found[1] };
  }

  /** Rows of other keys than the batch's that hold a unique value one of `upserts` wants. */
  private async holders(
    connection: SqlConnection,
    target: Target,
    upserts: readonly KeyAction[],
    batchKeys: readonly KeyAction[],
  ): Promise<Array<{ uniqueKey: number; valueId: string; holder: Holder }>> {
    const found: Array<{ uniqueKey: number; valueId: string; holder: Holder }> = [];
    for (const [uniqueKey, columns] of target.uniqueKeys.entries()) {
      const wanted = upserts.filter((action) => uniqueValueId(action.row as Row, columns) !== null);
      for (const chunk of this.chunks(wanted, columns.length + target.keyColumns.length)) {
        const params: unknown[] = [];
        const selected = [...new Set([...target.keyColumns, ...columns, POSITION_COLUMN])].map((column) => this.dialect.quote(column));
        const sql =
          `SELECT ${selected.join(', ')} FROM ${this.dialect.qualified(target.table)} ` +
          `WHERE ${this.inList(columns, chunk.map((action) => columns.map((column) => (action.row as Row)[column] ?? null)), params, target)} ` +
          `AND NOT ${this.inList(target.keyColumns, batchKeys.map((action) => action.key), params, target)}`;
        for (const row of await connection.query(sql, params)) {
          const key = target.keyColumns.map((column) => row[column] as Value);
          found.push({
            uniqueKey,
            valueId: encodeValues(columns.map((column) => row[column])),
            holder: { key, keyId: encodeValues(key), position: String(row[POSITION_COLUMN]) },
          });
        }
      }
    }
    return found;
  }

  /** Deletes the rows of `keys` from `table`: the target table or its tombstone table. */
  private async deleteKeys(connection: SqlConnection, target: Target, table: string, keys: readonly Value[][]): Promise<void> {
    for (const chunk of this.chunks(keys, target.keyColumns.length)) {
      const params: unknown[] = [];
      await connection.query(`DELETE FROM ${this.dialect.qualified(table)} WHERE ${this.inList(target.keyColumns, chunk, params, target)}`, params);
    }
  }

  private async writeTombstones(connection: SqlConnection, target: Target, rows: ReadonlyArray<{ key: Value[]; position: string }>): Promise<void> {
    const columns = [...target.keyColumns, POSITION_COLUMN];
    for (const chunk of this.chunks(rows, columns.length)) {
      const params: unknown[] = [];
      const rowsSql = chunk
        .map(({ key, position }) => `(${[...key.map((value, i) => this.param(params, value, target.columns.get(target.keyColumns[i]!))), this.param(params, position, undefined)].join(', ')})`)
        .join(', ');
      await connection.query(this.dialect.tombstoneStatement(target.tombstones, target.keyColumns, rowsSql), params);
    }
  }

  private async upsertRows(connection: SqlConnection, target: Target, actions: readonly KeyAction[]): Promise<void> {
    const columns = [...[...target.columns.keys()].filter((column) => column !== POSITION_COLUMN), POSITION_COLUMN];
    for (const chunk of this.chunks(actions, columns.length)) {
      const params: unknown[] = [];
      const rowsSql = chunk
        .map((action) => {
          const row = action.row as Row;
          const values = columns.map((column) =>
            column === POSITION_COLUMN ? this.param(params, action.position, undefined) : this.param(params, row[column] ?? null, target.columns.get(column)),
          );
          return `(${values.join(', ')})`;
        })
        .join(', ');
      await connection.query(this.dialect.upsertStatement(target.table, columns, target.keyColumns, rowsSql), params);
    }
  }

  private param(params: unknown[], value: Value, column: ColumnSchema | undefined): string {
    const param = this.dialect.toParam(value, column);
    if (this.dialect.literal) return this.dialect.literal(param);
    params.push(param);
    return this.dialect.placeholder(params.length);
  }

  /** `(a, b) IN ((?, ?), ...)`: rows of values of `columns`, as parameters. */
  private inList(columns: readonly string[], rows: readonly Value[][], params: unknown[], target: Target): string {
    if (rows.length === 0) return '1 = 0';
    const tuple = (values: readonly Value[]) =>
      values.map((value, i) => this.param(params, value, target.columns.get(columns[i]!))).join(', ');
    if (columns.length === 1) return `${this.dialect.quote(columns[0]!)} IN (${rows.map(tuple).join(', ')})`;
    return `(${columns.map((column) => this.dialect.quote(column)).join(', ')}) IN (${rows.map((row) => `(${tuple(row)})`).join(', ')})`;
  }

  /** Slices that keep each statement under the target's parameter limit (a margin left for other parameters). */
  private chunks<T>(items: readonly T[], paramsPerItem: number): T[][] {
    const size = Math.max(1, Math.floor(this.dialect.maxParams / 2 / Math.max(1, paramsPerItem)));
    const chunks: T[][] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
    return chunks;
  }

  /**
   * The target of a source table, created or evolved to the batch's schema (DDL runs outside the batch's
   * transaction, before the rows that need it). A set-up under way for another schema is awaited, then
   * the batch's own schema is looked at again.
   */
  private async target(connection: SqlConnection, table: TableActions): Promise<Target> {
    const sourceId = `${table.sourceDb}.${table.sourceTable}`;
    for (;;) {
      const known = this.targets.get(sourceId);
      if (known && !this.needsSetUp(known, table)) return known;
      const pending = this.settingUp.get(sourceId);
      if (pending) {
        await pending;
        continue;
      }
      const setUp = this.setUpTarget(connection, sourceId, table).finally(() => this.settingUp.delete(sourceId));
      this.settingUp.set(sourceId, setUp);
      return setUp;
    }
  }

  /**
   * True when the batch brings a schema the target was not checked against. A schema older than the one
   * the target follows (another partition still delivering rows written before an ALTER) is not: its
   * rows fit the target, which only ever widens.
   */
  private needsSetUp(target: Target, table: TableActions): boolean {
    const { schema, schemaPosition } = table;
    if (!schema || schema === target.schema) return false;
    if (schemaPosition !== undefined && target.schemaPosition !== undefined && comparePositions(schemaPosition, target.schemaPosition) < 0) return false;
    if (target.schema && sameColumns(target.schema, schema)) {
      target.schema = schema;
      if (schemaPosition !== undefined) target.schemaPosition = schemaPosition;
      return false;
    }
    return true;
  }

  private async hasTarget(connection: SqlConnection, table: TableActions): Promise<boolean> {
    const sourceId = `${table.sourceDb}.${table.sourceTable}`;
    return this.targets.has(sourceId) || (await this.dialect.targetColumns(connection, this.targetName(sourceId, table))).length > 0;
  }

  private targetName(sourceId: string, table: TableActions): string {
    return this.options.tableMap?.[sourceId] ?? table.sourceTable;
  }

  private async setUpTarget(connection: SqlConnection, sourceId: string, table: TableActions): Promise<Target> {
    const name = this.targetName(sourceId, table);
    const tombstones = this.tombstoneTable(name);
    const keyColumns = table.keyColumns;
    const { schema } = table;
    let columns = await this.dialect.targetColumns(connection, name);
    let schemaPosition = await this.schemaPositions.read(connection, name);
    if (columns.length === 0) {
      if (!this.options.manageTables || !schema) {
        throw new CdcError('SCHEMA_INCOMPATIBLE', `${this.name}: target table ${name} does not exist (set manageTables to create it from the source schema)`);
      }
      await connection.query(this.createTableStatement(name, schema));
      schemaPosition = await this.schemaPositions.record(connection, name, table.schemaPosition);
      columns = await this.dialect.targetColumns(connection, name);
    } else {
      if (!columns.some((column) => column.name === POSITION_COLUMN)) await this.addColumn(connection, name, `${this.dialect.quote(POSITION_COLUMN)} ${this.dialect.positionType} NULL`);
      const older = schemaPosition !== undefined && table.schemaPosition !== undefined && comparePositions(table.schemaPosition, schemaPosition) < 0;
      if (schema && !older && (await this.followSchema(connection, sourceId, name, tombstones, keyColumns, columns, schema))) {
        schemaPosition = await this.schemaPositions.record(connection, name, table.schemaPosition);
      }
      columns = await this.dialect.targetColumns(connection, name);
    }
    const types = new Map(columns.map((column) => [column.name, column.sqlType]));
    const keyDefinitions = keyColumns.map((column) => `${this.dialect.quote(column)} ${types.get(column) ?? 'text'} NOT NULL`);
    await connection.query(
      `CREATE TABLE IF NOT EXISTS ${this.dialect.qualified(tombstones)} (${keyDefinitions.join(', ')}, ` +
        `${this.dialect.quote(POSITION_COLUMN)} ${this.dialect.positionType} NOT NULL, ` +
        `PRIMARY KEY (${keyColumns.map((column) => this.dialect.quote(column)).join(', ')}))`,
    );
    if (this.tracking) await this.dialect.ensurePositionIndex(connection, tombstones);
    await this.dialect.prepareLock(connection, name);
    const schemaColumns = new Map(schema?.columns.map((column) => [column.name, column]) ?? []);
    const target: Target = {
      source: table.sourceName,
      table: name,
      tombstones,
      keyColumns,
      uniqueKeys: schema?.uniqueKeys ?? [],
      columns: new Map(columns.map((column) => [column.name, schemaColumns.get(column.name)])),
      schema,
      schemaPosition: newest(schemaPosition, table.schemaPosition),
    };
    this.targets.set(sourceId, target);
    return target;
  }

  /**
   * Makes an existing target hold the source's schema (docs/sinks.md, schema changes): with managed
   * tables, adds new columns and widens widened ones, or stops the sink at a change it cannot make;
   * otherwise only says, once, which columns no longer hold the source's. True when it changed the target.
   */
  private async followSchema(
    connection: SqlConnection,
    sourceId: string,
    table: string,
    tombstones: string,
    keyColumns: readonly string[],
    existing: readonly TargetColumn[],
    schema: TableSchema,
  ): Promise<boolean> {
    const plan = planSchemaChange(this.dialect, existing, schema);
    const log = this.options.log ?? silentLogger;
    if (!this.options.manageTables) {
      for (const widening of plan.widened) {
        const note = `${table}.${widening.column.name} ${widening.to}${widening.nullable ? ' NULL' : ''}`;
        if (this.unmanagedNotes.has(note)) continue;
        this.unmanagedNotes.add(note);
        log.warn(
          { sink: this.name, source: sourceId, table, column: widening.column.name, target: widening.from, needed: widening.to, nullable: widening.nullable },
          `target column ${table}.${widening.column.name} (${widening.from}) does not hold the source's column any more (${widening.to}${widening.nullable ? ', NULL' : ''}) and the sink does not manage tables: alter it yourself, or rows that do not fit go to the dead-letter topic`,
        );
      }
      return false;
    }
    const [refused] = plan.refused;
    if (refused) {
      throw new CdcError(
        'SCHEMA_INCOMPATIBLE',
        `${this.name}: cannot follow ${sourceId}: target column ${table}.${refused.column} is ${refused.from}, the source's now maps to ${refused.to} (${refused.why}); ` +
          `the sink only widens columns. Alter the target column yourself (or drop the target table and replay the sink), then run again`,
      );
    }
    for (const column of plan.added) {
      // Added columns accept NULL: the rows already there have no value for them.
      await this.addColumn(connection, table, `${this.dialect.quote(column.name)} ${this.dialect.columnType(column)} NULL`);
    }
    for (const widening of plan.widened) {
      const { column } = widening;
      await connection.query(this.dialect.alterColumnStatement(table, column.name, widening.to, widening.nullable));
      const tombstonesExist = keyColumns.includes(column.name) && (await this.dialect.targetColumns(connection, tombstones)).length > 0;
      if (widening.typeGrows && tombstonesExist) await connection.query(this.dialect.alterColumnStatement(tombstones, column.name, widening.to, false));
      log.info({ sink: this.name, source: sourceId, table, column: column.name, from: widening.from, to: widening.to, nullable: widening.nullable }, 'target column widened');
    }
    return plan.added.length > 0 || plan.widened.length > 0;
  }

  private async addColumn(connection: SqlConnection, table: string, definition: string): Promise<void> {
    try {
      await connection.query(`ALTER TABLE ${this.dialect.qualified(table)} ADD COLUMN ${definition}`);
    } catch (error) {
      if (!this.dialect.isDuplicateColumn(error)) throw error;
    }
  }

  private createTableStatement(table: string, schema: TableSchema): string {
    const quote = (column: string) => this.dialect.quote(column);
    const definitions = [
      ...schema.columns.map((column) => `${quote(column.name)} ${this.dialect.columnType(column)} ${column.nullable ? 'NULL' : 'NOT NULL'}`),
      `${quote(POSITION_COLUMN)} ${this.dialect.positionType} NOT NULL`,
      `PRIMARY KEY (${schema.primaryKey.map(quote).join(', ')})`,
      ...schema.uniqueKeys.map((columns, index) => this.dialect.uniqueKeyClause(table, index, columns)),
    ];
    return `CREATE TABLE IF NOT EXISTS ${this.dialect.qualified(table)} (${definitions.join(', ')})`;
  }

  /** `<table>__cdc_tombstones`, shortened with a hash when the target's identifier limit needs it. */
  private tombstoneTable(table: string): string {
    const suffix = '__cdc_tombstones';
    const name = `${table}${suffix}`;
    if (name.length <= this.dialect.maxIdentifierLength) return name;
    const hash = createHash('sha256').update(table).digest('hex').slice(0, 8);
    return `${table.slice(0, this.dialect.maxIdentifierLength - suffix.length - hash.length - 1)}_${hash}${suffix}`;
  }
}

/** What the target holds for a batch's keys. */
interface StoredKeys {
  /** Per key, the newest position of its row or its tombstone. */
  positions: Map<string, string>;
  /** Keys that have a row; undefined when the target matched a key the batch does not name exactly (collation), and any key may have one. */
  rows: Set<string> | undefined;
  /** The same for tombstones. */
  tombstones: Set<string> | undefined;
}

/** Two schemas with the same columns (names, types, NULL), whatever else differs. */
function sameColumns(a: TableSchema, b: TableSchema): boolean {
  return JSON.stringify(a.columns) === JSON.stringify(b.columns);
}

function newest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return comparePositions(a, b) < 0 ? b : a;
}

/** The actions whose key is in `keys` (all of them when unknown). */
function present(keys: Set<string> | undefined, actions: readonly KeyAction[]): KeyAction[] {
  return keys ? actions.filter((action) => keys.has(action.keyId)) : [...actions];
}

/** The delete of a key-changing update's before key: that key's own events are in another partition. */
function removesAnotherPartitionsKey(action: KeyAction): boolean {
  return action.row === null && action.record.event.op === 'u';
}

/** Identity of a row's value for one unique key; null when a column is NULL (NULLs never collide). */
function uniqueValueId(row: Row, columns: readonly string[]): string | null {
  const values = columns.map((column) => row[column] ?? null);
  return values.some((value) => value === null) ? null : encodeValues(values);
}

function uniqueByKey<T extends Claimant>(items: readonly T[]): T[] {
  return [...new Map(items.map((item) => [item.keyId, item])).values()];
}

/** An error's code and message, for the dead-letter topic and for errors: never a connection string. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
