import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { truncateEvent, type ChangeEvent, type RowIdentity, type TableSchema } from '../../topology/change-event.ts';
import type { EncodedRecord, RawRecord } from '../../topology/serde.ts';
import { CdcError } from '../../topology/errors.ts';
import { AvroEventSerde } from '../../serdes/avro-serde.ts';
import { tableEventSchemas } from '../../serdes/avro-schema.ts';
import { DecodeError, SchemaIncompatibleError } from '../../serdes/errors.ts';
import { documentKey, documentOf, documentRow, idOf } from '../../serdes/mongo-document.ts';
import { recordNameStrategy } from '../../serdes/subject-name.ts';
import { allTypesRow, allTypesTable, changeEvent } from './all-types.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { plainEvent } from './plain.ts';

const TOPIC = 'cdc.shop.all';

function records(topic: string, encoded: readonly EncodedRecord[]): RawRecord[] {
  return encoded.map(({ key, value }, i) => ({ topic, partition: 3, offset: String(100 + i), key, value }));
}

function allTypesEvents(table: TableSchema): ChangeEvent[] {
  const [first, second] = [allTypesRow(0), allTypesRow(1)];
  return [
    changeEvent(table, 'r', null, first, '001'),
    changeEvent(table, 'c', null, second, '002'),
    changeEvent(table, 'u', second, { ...second, c_varchar: 'changed' }, '003'),
    changeEvent(table, 'd', first, null, '004'),
  ];
}

test('every MySQL type round-trips exactly, and decoded events carry the TableSchema', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv' });
  const table = allTypesTable('shop', 'all');
  const events = allTypesEvents(table);
  const decoded = await serde.decode(records(TOPIC, await serde.encode(TOPIC, events)));
  assert.deepEqual(decoded.map(plainEvent), events);
  // One TableSchema per writer schema, shared by its events.
  assert.equal((decoded[0] as ChangeEvent).schema, (decoded[3] as ChangeEvent).schema);
});

test('once a schema is known, encoding and decoding make no registry call', async () => {
  const registry = new MemoryRegistry();
  const serde = new AvroEventSerde({ registry, prefix: 'srv' });
  const table = allTypesTable('shop', 'all');
  const encoded = await serde.encode(TOPIC, allTypesEvents(table));
  await serde.decode(records(TOPIC, encoded));
  const calls = registry.calls;
  await serde.encode(TOPIC, allTypesEvents(table));
  // An equal TableSchema in a new object finds the registered ids without asking twice.
  await serde.encode(TOPIC, allTypesEvents(allTypesTable('shop', 'all')));
  await serde.decode(records(TOPIC, encoded));
  assert.equal(registry.calls, calls);
});

test('MongoDB documents of any shape and any _id type share one schema', async () => {
  const registry = new MemoryRegistry();
  const serde = new AvroEventSerde({ registry, prefix: 'srv' });
  const ids = [new BSON.ObjectId(), 'text-id', 42, { tenant: 1, n: new BSON.Long(7) }];
  const documents = ids.map((id, i) => ({
    _id: id,
    price: BSON.Decimal128.fromString('9.99'),
    at: new Date(0),
    tags: ['a', { b: i }],
    bin: new BSON.Binary(Buffer.from([i]), 0x80),
  }));
  const events: ChangeEvent[] = documents.map((document, i) => ({
    op: 'c',
    key: documentKey(document._id),
    before: null,
    after: documentRow(document),
    source: { connector: 'mongodb', name: 'm', db: 'app', table: 'users', position: String(i), tsMs: 1, snapshot: false },
    tsMs: 2,
  }));
  const decoded = (await serde.decode(records('mongo', await serde.encode('mongo', events)))).map(plainEvent);
  assert.deepEqual(decoded, events);
  // The same BSON, types included (an int32 stays int32, a long stays long).
  const bson = (value: unknown) => BSON.serialize({ value });
  assert.deepEqual(decoded.map((event) => bson(idOf(event.key))), ids.map(bson));
  assert.deepEqual(decoded.map((event) => bson(documentOf(event.after ?? {}))), documents.map(bson));
  assert.deepEqual([...registry.subjects.values()].map((versions) => versions.length), [1, 1]);
});

test('a bad record becomes a DecodeError with its coordinates, in decode and identify; the others are read', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv' });
  const table = allTypesTable('shop', 'all');
  const [good] = await serde.encode(TOPIC, allTypesEvents(table).slice(0, 1));
  const { key, value } = good as { key: Buffer; value: Buffer };
  const unknownId = Buffer.from(value);
  unknownId.writeUInt32BE(9999, 1);
  const bad: Array<[Buffer | null, RegExp]> = [
    [Buffer.concat([Buffer.from([1]), value.subarray(1)]), /unknown magic byte 1/],
    [value.subarray(0, 3), /shorter than the 5-byte header/],
    [unknownId, /unknown schema id 9999/],
    [value.subarray(0, value.length - 10), /truncated/],
    [Buffer.concat([value, Buffer.from([0])]), /1 bytes left/],
    [Buffer.concat([value.subarray(0, 5), Buffer.from([0x02, 0xff, 0xff, 0xff, 0xff, 0x0f])]), /./],
    [null, /tombstone/],
  ];
  const batch: RawRecord[] = [
    { topic: TOPIC, partition: 0, offset: '10', key, value },
    ...bad.map(([bytes], i) => ({ topic: TOPIC, partition: 1, offset: String(20 + i), key, value: bytes })),
  ];
  for (const read of ['decode', 'identify'] as const) {
    const results = await serde[read](batch);
    assert.ok(!(results[0] instanceof Error), read);
    bad.forEach(([, reason], i) => {
      const error = results[i + 1];
      assert.ok(error instanceof DecodeError, `${read}, record ${i}: ${String(error)}`);
      assert.equal(error.code, 'DECODE_FAILED');
      assert.deepEqual([error.topic, error.partition, error.offset], [TOPIC, 1, String(20 + i)]);
      assert.match(error.reason, reason);
    });
  }
});

test('identify reads the op, table and key that decode reads, for rows, truncates and MongoDB documents', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv' });
  const table = allTypesTable('shop', 'all');
  const rows = allTypesEvents(table);
  const truncate = truncateEvent({ ...rows[0]!.source, position: '005', snapshot: false }, table);
  const document: ChangeEvent = {
    op: 'd',
    key: documentKey(new BSON.ObjectId()),
    before: null,
    after: null,
    source: { connector: 'mongodb', name: 'm', db: 'app', table: 'users', position: '1', tsMs: 1, snapshot: false },
    tsMs: 2,
  };
  const batch = [...records(TOPIC, await serde.encode(TOPIC, [...rows, truncate])), ...records('mongo', await serde.encode('mongo', [document]))];
  const identityOf = ({ op, key, source }: RowIdentity) => ({ op, key: { ...key }, source: { db: source.db, table: source.table } });
  const decoded = (await serde.decode(batch)) as ChangeEvent[];
  assert.deepEqual(((await serde.identify(batch)) as RowIdentity[]).map(identityOf), decoded.map(identityOf));
  assert.deepEqual(decoded.map(identityOf), [...rows, truncate, document].map(identityOf));
  // A record's key without a row's value, or an op no change event has, is refused as decode refuses it.
  const [unknownOp] = await serde.encode(TOPIC, [{ ...rows[1]!, op: 'x' as ChangeEvent['op'] }]);
  const refused = await serde.identify([{ ...batch[4]!, key: null, value: batch[0]!.value }, { ...batch[0]!, ...unknownOp! }]);
  assert.match((refused[0] as DecodeError).reason, /no key \(op "r"\)/);
  assert.match((refused[1] as DecodeError).reason, /unknown op "x"/);
});

test('a truncate has no record key (as Debezium writes it) and round-trips; a row record without a key is a DecodeError', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv' });
  const table = allTypesTable('shop', 'all');
  const [row] = allTypesEvents(table);
  const truncate = truncateEvent({ ...row!.source, position: '005', snapshot: false }, table);
  const [rowRecord, truncateRecord] = await serde.encode(TOPIC, [row!, truncate]);
  assert.equal(truncateRecord!.key, null);
  const decoded = await serde.decode(records(TOPIC, [truncateRecord!, { key: null, value: rowRecord!.value }]));
  assert.deepEqual(plainEvent(decoded[0]!), truncate);
  assert.ok(decoded[1] instanceof DecodeError);
  assert.match(decoded[1].reason, /no key \(op "r"\)/);
});

function withColumns(table: TableSchema, columns: TableSchema['columns']): TableSchema {
  return { ...table, columns };
}

const base: TableSchema = {
  db: 'shop',
  table: 'items',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'name', type: 'varchar', length: 20, nullable: true },
    { name: 'price', type: 'decimal', precision: 10, scale: 2, nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};
const baseRow = { id: 1, name: 'pen', price: '1.50' };

test('ADD COLUMN registers a new version; an old reader decodes new events with its schema', async () => {
  const registry = new MemoryRegistry();
  const writer = new AvroEventSerde({ registry, prefix: 'srv' });
  await writer.encode('items', [changeEvent(base, 'c', null, baseRow, '1')]);
  const added = withColumns(base, [...base.columns, { name: 'stock', type: 'int', nullable: false }]);
  const encoded = await writer.encode('items', [changeEvent(added, 'c', null, { ...baseRow, stock: 5 }, '2')]);
  assert.equal(registry.subjects.get('items-value')?.length, 2);

  const oldReader = new AvroEventSerde({ registry, prefix: 'srv', readerSchemas: new Map([['items', tableEventSchemas('srv', base).value]]) });
  const [event] = (await oldReader.decode(records('items', encoded))).map(plainEvent);
  assert.deepEqual(event?.after, baseRow);
  assert.deepEqual(event?.schema, base);
});

test('a new reader fills a column the writer did not have with its default', async () => {
  const registry = new MemoryRegistry();
  const writer = new AvroEventSerde({ registry, prefix: 'srv' });
  const encoded = await writer.encode('items', [changeEvent(base, 'c', null, baseRow, '1')]);
  const widened = withColumns(base, [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'name', type: 'text', nullable: true },
    { name: 'price', type: 'decimal', precision: 12, scale: 2, nullable: false },
    { name: 'note', type: 'varchar', nullable: true },
    { name: 'stock', type: 'int', nullable: false },
  ]);
  const reader = new AvroEventSerde({ registry, prefix: 'srv', readerSchemas: new Map([['items', tableEventSchemas('srv', widened).value]]) });
  const [event] = (await reader.decode(records('items', encoded))).map(plainEvent);
  assert.deepEqual(event?.after, { id: 1n, name: 'pen', price: '1.50', note: null, stock: 0 });
});

test('an incompatible change is a SchemaIncompatibleError naming table and column', async () => {
  const changes: Array<[string, TableSchema['columns'][number]]> = [
    ['name', { name: 'name', type: 'int', nullable: true }],
    ['price', { name: 'price', type: 'decimal', precision: 10, scale: 3, nullable: false }],
    ['name', { name: 'name', type: 'varchar', nullable: false }],
  ];
  for (const [column, changed] of changes) {
    const registry = new MemoryRegistry();
    const serde = new AvroEventSerde({ registry, prefix: 'srv' });
    await serde.encode('items', [changeEvent(base, 'c', null, baseRow, '1')]);
    const table = withColumns(base, base.columns.map((c) => (c.name === column ? changed : c)));
    const row = { ...baseRow, [column]: changed.type === 'int' ? 1 : changed.type === 'decimal' ? '1.500' : 'x' };
    await assert.rejects(serde.encode('items', [changeEvent(table, 'u', row, row, '2')]), (error: unknown) => {
      assert.ok(error instanceof SchemaIncompatibleError, String(error));
      assert.equal(error.table, 'shop.items');
      assert.equal(error.column, column);
      return true;
    });
    assert.equal(registry.subjects.get('items-value')?.length, 1);
  }
});

test('a value that does not fit its column is an error naming the field', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv' });
  await assert.rejects(
    serde.encode('items', [changeEvent(base, 'c', null, { ...baseRow, price: '1.505' }, '1')]),
    (error: unknown) => error instanceof CdcError && /shop\.items .*after\.price/.test(error.message),
  );
});

test('RecordNameStrategy names subjects after the records', async () => {
  const registry = new MemoryRegistry();
  const serde = new AvroEventSerde({ registry, prefix: 'srv', subjectNameStrategy: recordNameStrategy });
  await serde.encode('items', [changeEvent(base, 'c', null, baseRow, '1')]);
  assert.deepEqual([...registry.subjects.keys()].sort(), ['srv.shop.items.Envelope', 'srv.shop.items.Key']);
});

test('a batch of several tables, one of them with a new schema midway, encodes each event with its own schemas', async () => {
  const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'srv', subjectNameStrategy: recordNameStrategy });
  const added = withColumns(base, [...base.columns, { name: 'stock', type: 'int', nullable: false }]);
  const all = allTypesTable('shop', 'all');
  const events = [
    changeEvent(base, 'c', null, baseRow, '1'),
    changeEvent(base, 'c', null, { ...baseRow, id: 2 }, '2'),
    changeEvent(all, 'r', null, allTypesRow(0), '3'),
    changeEvent(added, 'c', null, { ...baseRow, stock: 5 }, '4'),
    changeEvent(base, 'd', baseRow, null, '5'),
  ];
  const decoded = await serde.decode(records('items', await serde.encode('items', events)));
  assert.deepEqual(decoded.map(plainEvent), events);
});
