import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import type { TableSchema } from '../../../topology/change-event.ts';
import { record, typedRow, typedSchema } from '../support/records.ts';
import { truncateConverges, truncateFloorHolds } from '../support/truncate-scenario.ts';
import { purgedTombstonesStayBounded, SCENARIO_TOMBSTONES } from '../support/tombstone-scenario.ts';
import { scratchMariaDb, type Scratch } from '../support/targets.ts';

let target: Scratch & { connection: mysql.Connection };

before(async () => {
  target = await scratchMariaDb('sink');
});

after(async () => {
  await target.drop();
});

test('rows the target rejects come back with reasons while the rest of the batch applies', async (t) => {
  const sink = new MySqlSink({ name: 'mariadb-reject', url: target.url, manageTables: true, tableMap: { 'shop.items': 'items_copy' } });
  t.after(() => sink.close());
  const outOfRange = record(typedSchema, 'c', null, typedRow(2, 300, 'big'), 2);
  const notNull = record(typedSchema, 'c', null, typedRow(3, 1, null), 3);
  const { rejected } = await sink.apply([
    record(typedSchema, 'c', null, typedRow(1, 1, 'one'), 1),
    outOfRange,
    notNull,
    record(typedSchema, 'c', null, typedRow(4, 4, 'four'), 4),
  ]);
  assert.deepEqual(rejected.map((r) => r.record), [outOfRange, notNull]);
  assert.match(rejected[0]!.reason, /out of range/i);
  assert.match(rejected[1]!.reason, /cannot be null/i);
  const [rows] = await target.connection.query('SELECT id, a, note, CAST(big AS CHAR) AS big, amount, CAST(at AS CHAR) AS at, HEX(raw) AS raw FROM items_copy ORDER BY id');
  assert.deepEqual(
    (rows as Array<Record<string, unknown>>).map((row) => ({ ...row })),
    [1, 4].map((id) => ({ id, a: id, note: id === 1 ? 'one' : 'four', big: '9007199254740993', amount: '12345678.90', at: '2024-02-29 23:59:59.123', raw: '000102FF' })),
  );
});

test('a new column in the source schema is added to the target; identifiers with backticks are quoted', async (t) => {
  const sink = new MySqlSink({ name: 'mariadb-evolve', url: target.url, manageTables: true });
  t.after(() => sink.close());
  const v1: TableSchema = { db: 'shop', table: 'odd`name', columns: [{ name: 'id', type: 'int', nullable: false }], primaryKey: ['id'], uniqueKeys: [] };
  const v2: TableSchema = { ...v1, columns: [...v1.columns, { name: 'we`ird', type: 'varchar', length: 5, nullable: false }] };
  await sink.apply([record(v1, 'c', null, { id: 1 }, 1)]);
  const { rejected } = await sink.apply([record(v2, 'c', null, { id: 2, 'we`ird': 'x' }, 2)]);
  assert.deepEqual(rejected, []);
  const [rows] = await target.connection.query({ sql: 'SELECT id, `we``ird` FROM `odd``name` ORDER BY id', rowsAsArray: true });
  assert.deepEqual(rows, [
    [1, null],
    [2, 'x'],
  ]);
});

test('duplicates and a replayed older insert after a delete converge (tombstones)', async (t) => {
  const sink = new MySqlSink({ name: 'mariadb-replay', url: target.url, manageTables: true, tableMap: { 'shop.items': 'items_replay' } });
  t.after(() => sink.close());
  const insert = record(typedSchema, 'c', null, typedRow(1, 1, 'one'), 1);
  const update = record(typedSchema, 'u', typedRow(1, 1, 'one'), typedRow(1, 2, 'two'), 2);
  const remove = record(typedSchema, 'd', typedRow(1, 2, 'two'), null, 3);
  await sink.apply([insert, update, update]);
  await sink.apply([remove, remove]);
  await sink.apply([insert]);
  await sink.apply([update]);
  const [rows] = await target.connection.query('SELECT id FROM items_replay');
  assert.deepEqual(rows, []);
});

test('a truncate removes the rows written before its position and keeps newer ones, in any batch order; one of a table with no target is nothing', async (t) => {
  const sink = new MySqlSink({ name: 'mariadb-truncate', url: target.url, manageTables: true, tableMap: { 'shop.items': 'items_truncate' } });
  t.after(() => sink.close());
  await truncateConverges(sink, {
    rows: async () => (await target.connection.query({ sql: 'SELECT id, note, __cdc_pos FROM items_truncate ORDER BY id', rowsAsArray: true }))[0] as unknown[][],
    exists: async (table) => ((await target.connection.query('SHOW TABLES LIKE ?', [table]))[0] as unknown[]).length > 0,
  });
});

test('a truncate floor kept in the target skips the older rows of its table that come after it, also after a restart; newer rows apply, replays converge', async () => {
  await truncateFloorHolds(
    async () => new MySqlSink({ name: 'mariadb-floor', url: target.url, manageTables: true, tableMap: { 'shop.items': 'items_floor' } }),
    { rows: async () => (await target.connection.query({ sql: 'SELECT id, note, __cdc_pos FROM items_floor ORDER BY id', rowsAsArray: true }))[0] as unknown[][] },
  );
});

test('tombstones of a delete-heavy table are purged once the retention window has passed them; the target stays equal, replays inside the window converge', async (t) => {
  const sink = new MySqlSink({ name: 'mariadb-purge', url: target.url, manageTables: true, tombstones: SCENARIO_TOMBSTONES });
  t.after(() => sink.close());
  await purgedTombstonesStayBounded(
    async (context) => {
      await sink.start(context);
      return sink;
    },
    {
      ids: async () => ((await target.connection.query({ sql: 'SELECT id FROM queue ORDER BY id', rowsAsArray: true }))[0] as number[][]).map(([id]) => id!),
      tombstones: async () => Number(((await target.connection.query('SELECT COUNT(*) AS n FROM queue__cdc_tombstones'))[0] as Array<{ n: unknown }>)[0]!.n),
    },
  );
});

test('a target that cannot be reached is a retriable error, and nothing is reported as rejected', async (t) => {
  const url = new URL(target.url);
  url.port = '1';
  const sink = new MySqlSink({ name: 'mariadb-down', url: url.toString(), manageTables: true });
  t.after(() => sink.close());
  await assert.rejects(sink.apply([record(typedSchema, 'c', null, typedRow(1, 1, 'one'), 1)]), (error: { retriable?: boolean; message: string }) => {
    assert.equal(error.retriable, true);
    assert.doesNotMatch(error.message, new RegExp(new URL(target.url).password || 'no-password-in-url'));
    return true;
  });
});
