import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { PostgresSink } from '../../../connectors/postgres/sink.ts';
import { record, typedRow, typedSchema } from '../support/records.ts';
import { scratchPostgres, type Scratch } from '../support/targets.ts';
import { truncateConverges, truncateFloorHolds } from '../support/truncate-scenario.ts';
import { purgedTombstonesStayBounded, SCENARIO_TOMBSTONES } from '../support/tombstone-scenario.ts';

let target: Scratch & { client: pg.Client };

before(async () => {
  target = await scratchPostgres('sink');
});

after(async () => {
  await target.drop();
});

test('rows PostgreSQL rejects come back with reasons while the rest of the batch applies; types map', async (t) => {
  const sink = new PostgresSink({ name: 'postgres-reject', url: target.url, schema: target.name, manageTables: true });
  t.after(() => sink.close());
  const outOfRange = record(typedSchema, 'c', null, typedRow(2, 70_000, 'big'), 2);
  const notNull = record(typedSchema, 'c', null, typedRow(3, 1, null), 3);
  const { rejected } = await sink.apply([
    record(typedSchema, 'c', null, typedRow(1, 1, 'one'), 1),
    outOfRange,
    notNull,
    record(typedSchema, 'c', null, typedRow(4, 4, 'four'), 4),
  ]);
  assert.deepEqual(rejected.map((r) => r.record), [outOfRange, notNull]);
  assert.match(rejected[0]!.reason, /out of range/i);
  assert.match(rejected[1]!.reason, /not-null/i);
  const result = await target.client.query(
    `SELECT id, a, note, big::text AS big, amount::text AS amount, at::text AS at, encode(raw, 'hex') AS raw FROM "${target.name}".items ORDER BY id`,
  );
  assert.deepEqual(
    result.rows,
    [1, 4].map((id) => ({ id, a: id, note: id === 1 ? 'one' : 'four', big: '9007199254740993', amount: '12345678.90', at: '2024-02-29 23:59:59.123', raw: '000102ff' })),
  );
});

test('duplicates and a replayed older insert after a delete converge (tombstones)', async (t) => {
  const sink = new PostgresSink({ name: 'postgres-replay', url: target.url, schema: target.name, manageTables: true, tableMap: { 'shop.items': 'items_replay' } });
  t.after(() => sink.close());
  const insert = record(typedSchema, 'c', null, typedRow(1, 1, 'one'), 1);
  const update = record(typedSchema, 'u', typedRow(1, 1, 'one'), typedRow(1, 2, 'two'), 2);
  const remove = record(typedSchema, 'd', typedRow(1, 2, 'two'), null, 3);
  await sink.apply([insert, update, update]);
  await sink.apply([remove, remove]);
  await sink.apply([insert]);
  await sink.apply([update]);
  const result = await target.client.query(`SELECT id FROM "${target.name}".items_replay`);
  assert.deepEqual(result.rows, []);
});

test('a truncate removes the rows written before its position and keeps newer ones, in any batch order; one of a table with no target is nothing', async (t) => {
  const sink = new PostgresSink({ name: 'postgres-truncate', url: target.url, schema: target.name, manageTables: true, tableMap: { 'shop.items': 'items_truncate' } });
  t.after(() => sink.close());
  await truncateConverges(sink, {
    rows: async () => (await target.client.query({ text: `SELECT id, note, __cdc_pos FROM "${target.name}".items_truncate ORDER BY id`, rowMode: 'array' })).rows as unknown[][],
    exists: async (table) => (await target.client.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [target.name, table])).rowCount! > 0,
  });
});

test('a truncate floor kept in the target skips the older rows of its table that come after it, also after a restart; newer rows apply, replays converge', async () => {
  await truncateFloorHolds(
    async () => new PostgresSink({ name: 'postgres-floor', url: target.url, schema: target.name, manageTables: true, tableMap: { 'shop.items': 'items_floor' } }),
    { rows: async () => (await target.client.query({ text: `SELECT id, note, __cdc_pos FROM "${target.name}".items_floor ORDER BY id`, rowMode: 'array' })).rows as unknown[][] },
  );
});

test('tombstones of a delete-heavy table are purged once the retention window has passed them; the target stays equal, replays inside the window converge', async (t) => {
  const sink = new PostgresSink({ name: 'postgres-purge', url: target.url, schema: target.name, manageTables: true, tombstones: SCENARIO_TOMBSTONES });
  t.after(() => sink.close());
  await purgedTombstonesStayBounded(
    async (context) => {
      await sink.start(context);
      return sink;
    },
    {
      ids: async () => (await target.client.query({ text: `SELECT id FROM "${target.name}".queue ORDER BY id`, rowMode: 'array' })).rows.map(([id]) => id as number),
      tombstones: async () => Number((await target.client.query(`SELECT COUNT(*) AS n FROM "${target.name}".queue__cdc_tombstones`)).rows[0].n),
    },
  );
});
