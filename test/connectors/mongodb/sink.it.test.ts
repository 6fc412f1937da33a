import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Long, type MongoClient } from 'mongodb';
import { MongoSink, fromBson } from '../../../connectors/mongodb/sink.ts';
import { TYPE_PRESERVING_READ } from '../../../connectors/mongodb/change-events.ts';
import type { Row, TableSchema } from '../../../topology/change-event.ts';
import { allTypesRow, allTypesTable } from '../../serdes/all-types.ts';
import { record, truncateRecord, typedRow, typedSchema } from '../support/records.ts';
import { scratchMongo, type Scratch } from '../support/targets.ts';
import { truncateConverges, truncateFloorHolds } from '../support/truncate-scenario.ts';
import { purgedTombstonesStayBounded, SCENARIO_TOMBSTONES } from '../support/tombstone-scenario.ts';

let target: Scratch & { client: MongoClient };

before(async () => {
  target = await scratchMongo('sink');
});

after(async () => {
  await target.drop();
});

/** A BIGINT key: stored as Long, which the driver hands back as a number unless told otherwise. */
const accounts: TableSchema = {
  db: 'bank',
  table: 'accounts',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'balance', type: 'int', nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

test('with BIGINT keys, a replayed older event never moves a document back, and a deleted one stays deleted', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-replay', url: target.url, database: target.name });
  await sink.start();
  t.after(() => sink.close());
  const documents = target.client.db(target.name).collection('accounts');
  const row = (id: bigint, balance: number) => ({ id, balance });
  const events = [
    record(accounts, 'c', null, row(1n, 10), 1),
    record(accounts, 'c', null, row(2n, 20), 2),
    record(accounts, 'u', row(1n, 10), row(1n, 11), 3),
    record(accounts, 'd', row(2n, 20), null, 4),
  ];
  await sink.apply(events);
  const state = async () => (await documents.find().sort({ _id: 1 }).toArray()).map((doc) => [String(doc._id), doc.balance, doc.__cdc_pos]);
  const applied = await state();
  assert.deepEqual(applied, [['1', 11, '000000000003']]);
  for (let from = 0; from < events.length; from++) {
    // A replay of a suffix, in one batch and one event at a time.
    await sink.apply(events.slice(from));
    assert.deepEqual(await state(), applied, `replay from ${from}`);
    for (const event of events.slice(from)) {
      await sink.apply([event]);
      assert.deepEqual(await state(), applied, `replay from ${from}, event at ${event.event.source.position}`);
    }
  }
  const [doc] = await documents.find({}, { promoteLongs: false }).toArray();
  assert.ok(doc!._id instanceof Long, 'the key is stored as a 64-bit integer');
});

test('a truncate removes the documents written before its position and keeps newer ones, in any batch order; one of a collection never written removes nothing', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-truncate', url: target.url, database: target.name, collectionMap: { 'shop.items': 'items_truncate' } });
  await sink.start();
  t.after(() => sink.close());
  const db = target.client.db(target.name);
  await truncateConverges(sink, {
    rows: async () => (await db.collection('items_truncate').find().sort({ _id: 1 }).toArray()).map((doc) => [doc._id, doc.note, doc.__cdc_pos]),
  });
});

test('a truncate floor kept in the target skips the older documents of its collection that come after it, also after a restart; newer ones apply, replays converge', async () => {
  const db = target.client.db(target.name);
  await truncateFloorHolds(
    async () => {
      const sink = new MongoSink({ name: 'mongodb-floor', url: target.url, database: target.name, collectionMap: { 'shop.items': 'items_floor' } });
      await sink.start();
      return sink;
    },
    { rows: async () => (await db.collection('items_floor').find().sort({ _id: 1 }).toArray()).map((doc) => [doc._id, doc.note, doc.__cdc_pos]) },
  );
});

test('an older document written after the truncate removed the older ones, by a try cut before it read the floor again, goes when the record comes again', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-floor-cut', url: target.url, database: target.name, collectionMap: { 'shop.items': 'items_floor_cut' } });
  await sink.start();
  t.after(() => sink.close());
  const db = target.client.db(target.name);
  await sink.apply([truncateRecord(typedSchema, 10)]);
  const older = record(typedSchema, 'c', null, typedRow(1, 1, 'older'), 3);
  // What the cut try left: its document, written after the truncate's deleteMany.
  await db.collection('items_floor_cut').insertOne({ _id: 1, note: 'older', __cdc_pos: older.event.source.position } as never);
  assert.deepEqual(await sink.apply([older]), { rejected: [], skipped: [older] });
  assert.deepEqual(await db.collection('items_floor_cut').find().toArray(), []);
  assert.deepEqual(await db.collection('__cdc_sink_truncates').findOne({ _id: 'items_floor_cut' } as never), { _id: 'items_floor_cut', __cdc_pos: '000000000010' });
});

test('a delete whose batch was cut after its tombstone and before the document went is applied again: the document goes', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-cut', url: target.url, database: target.name, collectionMap: { 'bank.accounts': 'accounts_cut' } });
  await sink.start();
  t.after(() => sink.close());
  const db = target.client.db(target.name);
  await sink.apply([record(accounts, 'c', null, { id: 1n, balance: 10 }, 1), record(accounts, 'c', null, { id: 2n, balance: 20 }, 2)]);
  const remove = record(accounts, 'd', { id: 1n, balance: 10 }, null, 3);
  // What the cut batch left: the tombstone at the delete's position, the document still there.
  await db.collection('accounts_cut__cdc_tombstones').insertOne({ _id: new Long(1), __cdc_pos: remove.event.source.position } as never);
  await sink.apply([remove]);
  assert.deepEqual((await db.collection('accounts_cut').find().toArray()).map((doc) => Number(doc._id)), [2]);
  // Replays of the delete and of the older insert change nothing.
  await sink.apply([record(accounts, 'c', null, { id: 1n, balance: 10 }, 1), remove]);
  assert.deepEqual((await db.collection('accounts_cut').find().toArray()).map((doc) => Number(doc._id)), [2]);
});

test('tombstones of a delete-heavy collection are purged once the retention window has passed them; the target stays equal, replays inside the window converge', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-purge', url: target.url, database: target.name, tombstones: SCENARIO_TOMBSTONES });
  t.after(() => sink.close());
  const db = target.client.db(target.name);
  await purgedTombstonesStayBounded(
    async (context) => {
      await sink.start(context);
      return sink;
    },
    {
      ids: async () => (await db.collection('queue').find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown as number),
      tombstones: () => db.collection('queue__cdc_tombstones').countDocuments(),
    },
  );
});

/** The documents of `collection` read back as canonical rows, as `cdc verify` reads them (verify-reader.ts). */
async function readRows(collection: string, schema: TableSchema): Promise<Row[]> {
  const documents = await target.client.db(target.name).collection(collection).find({}, TYPE_PRESERVING_READ).sort({ _id: 1 }).toArray();
  return documents.map((document) => Object.fromEntries(schema.columns.filter(({ name }) => name in document).map((column) => [column.name, fromBson(document[column.name], column)])));
}

const unsigned: TableSchema = {
  db: 'bank',
  table: 'counters',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'n', type: 'bigint', unsigned: true, nullable: true },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

test('BIGINT UNSIGNED keeps every value exactly: Long up to 2^63-1, Decimal128 above (never a wrapped negative Long)', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-unsigned', url: target.url, database: target.name });
  await sink.start();
  t.after(() => sink.close());
  const values = [0n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
  const { rejected } = await sink.apply(values.map((n, i) => record(unsigned, 'c', null, { id: i, n }, i + 1)));
  assert.deepEqual(rejected, []);
  assert.deepEqual(await readRows('counters', unsigned), values.map((n, id) => ({ id, n })));
  const stored = await target.client.db(target.name).collection('counters').find({}, TYPE_PRESERVING_READ).sort({ _id: 1 }).toArray();
  assert.deepEqual(
    stored.map((doc) => [doc.n._bsontype, String(doc.n)]),
    [['Long', '0'], ['Long', '9223372036854775807'], ['Decimal128', '9223372036854775808'], ['Decimal128', '18446744073709551615']],
  );
  // Compared by value in queries, across both types.
  assert.deepEqual((await target.client.db(target.name).collection('counters').find({ n: { $gt: new Long(0) } }).sort({ _id: 1 }).toArray()).map((doc) => doc._id), [1, 2, 3]);
});

test('every MySQL type reads back as the value it was given; a DECIMAL beyond Decimal128 is its row\'s rejection, naming the column, and the batch goes on', async (t) => {
  const sink = new MongoSink({ name: 'mongodb-types', url: target.url, database: target.name });
  await sink.start();
  t.after(() => sink.close());
  const table = allTypesTable('types', 'all_types');
  // Row 0 holds DECIMAL(65,30)'s widest value (65 digits) and BIGINT UNSIGNED's largest key; row 1 the lowest values.
  const fitting = { ...allTypesRow(0), id: 2n ** 64n - 2n, c_decimal: '12345.000000000000000000000000000000' };
  const events = [record(table, 'c', null, allTypesRow(0), 1), record(table, 'c', null, allTypesRow(1), 2), record(table, 'c', null, fitting, 3)];
  const { rejected, skipped } = await sink.apply(events);
  assert.deepEqual(
    rejected.map(({ record: { event }, reason }) => [event.source.position, reason]),
    [['000000000001', "column c_decimal: a value of 65 significant digits does not fit MongoDB's Decimal128 (34 digits); rejected rather than rounded"]],
  );
  assert.deepEqual(skipped, []);
  assert.deepEqual(await readRows('all_types', table), [allTypesRow(1), fitting]);
});
