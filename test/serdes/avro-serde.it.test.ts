/** Against the real registry (Apicurio's Confluent-compatible API): `npm run stack -- up` first. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import avsc from 'avsc';
import type { TableSchema } from '../../topology/change-event.ts';
import type { EncodedRecord, RawRecord } from '../../topology/serde.ts';
import { AvroEventSerde } from '../../serdes/avro-serde.ts';
import { tableEventSchemas } from '../../serdes/avro-schema.ts';
import { DecodeError, SchemaIncompatibleError } from '../../serdes/errors.ts';
import { ConfluentSchemaRegistry } from '../../serdes/registry.ts';
import { stackEnv } from '../support/stack-env.ts';
import { allTypesRow, allTypesTable, changeEvent } from './all-types.ts';
import { plainEvent } from './plain.ts';

const url = stackEnv().SCHEMA_REGISTRY_URL;
const run = randomUUID().slice(0, 8);

async function get(path: string): Promise<unknown> {
  const response = await fetch(`${url}${path}`);
  assert.equal(response.status, 200, `GET ${path}`);
  return response.json();
}

function newSerde(extra: { readerSchemas?: ReadonlyMap<string, ReturnType<typeof tableEventSchemas>['value']> } = {}) {
  return new AvroEventSerde({ registry: ConfluentSchemaRegistry.fromArgs({ host: url }), prefix: 'srv', ...extra });
}

function records(topic: string, encoded: readonly EncodedRecord[]): RawRecord[] {
  return encoded.map(({ key, value }, i) => ({ topic, partition: 0, offset: String(i), key, value }));
}

test('every MySQL type round-trips through the registry', async () => {
  const topic = `it-all-${run}`;
  const table = allTypesTable('shop', `all_${run}`);
  const [first, second] = [allTypesRow(0), allTypesRow(1)];
  const events = [changeEvent(table, 'c', null, first, '1'), changeEvent(table, 'u', first, second, '2'), changeEvent(table, 'd', second, null, '3')];
  const encoded = await newSerde().encode(topic, events);
  // A second process, knowing nothing but the registry, decodes them.
  const decoded = (await newSerde().decode(records(topic, encoded))).map(plainEvent);
  assert.deepEqual(decoded, events);
  assert.deepEqual(await get(`/config/${topic}-value`), { compatibilityLevel: 'BACKWARD' });
});

test('plain avsc decodes our bytes with the schema fetched by id', async () => {
  const topic = `it-plain-${run}`;
  const table: TableSchema = {
    db: 'shop',
    table: 'plain',
    columns: [
      { name: 'id', type: 'int', nullable: false },
      { name: 'name', type: 'varchar', nullable: true },
      { name: 'at', type: 'datetime', precision: 3, nullable: false },
      { name: 'amount', type: 'decimal', precision: 8, scale: 2, nullable: false },
    ],
    primaryKey: ['id'],
    uniqueKeys: [],
  };
  const row = { id: 7, name: '𝄞😀', at: '2024-02-29 12:00:00.500', amount: '-12.34' };
  const [record] = await newSerde().encode(topic, [changeEvent(table, 'c', null, row, '9')]);
  const value = (record as { value: Buffer }).value;
  assert.equal(value[0], 0);
  const { schema } = (await get(`/schemas/ids/${value.readUInt32BE(1)}`)) as { schema: string };
  const decoded = avsc.Type.forSchema(JSON.parse(schema)).fromBuffer(value.subarray(5));
  assert.equal(decoded.op, 'c');
  assert.equal(decoded.source.position, '9');
  assert.deepEqual({ ...decoded.after, amount: undefined }, { ...row, amount: undefined });
  // The decimal is Avro's: unscaled two's-complement bytes, -1234 at scale 2.
  assert.equal(decoded.after.amount.readInt16BE(0), -1234);
});

test('ADD COLUMN gives version 2; an old reader decodes the new events; an incompatible change is refused', async () => {
  const topic = `it-evolve-${run}`;
  const v1: TableSchema = {
    db: 'shop',
    table: 'items',
    columns: [
      { name: 'id', type: 'int', nullable: false },
      { name: 'name', type: 'varchar', length: 20, nullable: true },
    ],
    primaryKey: ['id'],
    uniqueKeys: [],
  };
  const writer = newSerde();
  await writer.encode(topic, [changeEvent(v1, 'c', null, { id: 1, name: 'pen' }, '1')]);
  const v2 = { ...v1, columns: [...v1.columns, { name: 'stock', type: 'bigint', nullable: false }] };
  const encoded = await writer.encode(topic, [changeEvent(v2, 'c', null, { id: 2, name: 'ink', stock: 5n }, '2')]);
  assert.deepEqual(await get(`/subjects/${topic}-value/versions`), [1, 2]);

  const oldReader = newSerde({ readerSchemas: new Map([[topic, tableEventSchemas('srv', v1).value]]) });
  const [event] = (await oldReader.decode(records(topic, encoded))).map(plainEvent);
  assert.deepEqual(event?.after, { id: 2, name: 'ink' });

  const v3 = { ...v2, columns: v2.columns.map((c) => (c.name === 'name' ? { ...c, type: 'int' } : c)) };
  await assert.rejects(writer.encode(topic, [changeEvent(v3, 'c', null, { id: 3, name: 3, stock: 1n }, '3')]), (error: unknown) => {
    assert.ok(error instanceof SchemaIncompatibleError, String(error));
    assert.equal(error.table, 'shop.items');
    assert.equal(error.column, 'name');
    return true;
  });
  assert.deepEqual(await get(`/subjects/${topic}-value/versions`), [1, 2]);
});

test('the registry refusing a schema (409) is a SchemaIncompatibleError too', async () => {
  const subject = `it-409-${run}`;
  const registry = ConfluentSchemaRegistry.fromArgs({ host: url });
  const record = (type: string) => JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'x', type }] });
  const accept = { table: 'd.t', check: () => undefined };
  await registry.idOf(subject, record('int'), accept);
  await assert.rejects(registry.idOf(subject, record('string'), accept), (error: unknown) => error instanceof SchemaIncompatibleError && error.table === 'd.t');
});

test('a schema id the registry does not know is a DecodeError', async () => {
  const topic = `it-unknown-${run}`;
  const table = allTypesTable('shop', `unknown_${run}`);
  const [record] = await newSerde().encode(topic, [changeEvent(table, 'c', null, allTypesRow(1), '1')]);
  const value = Buffer.from((record as { value: Buffer }).value);
  value.writeUInt32BE(0x7fffff00, 1);
  const [decoded] = await newSerde().decode([{ topic, partition: 4, offset: '42', key: (record as { key: Buffer }).key, value }]);
  assert.ok(decoded instanceof DecodeError);
  assert.deepEqual([decoded.topic, decoded.partition, decoded.offset], [topic, 4, '42']);
  assert.match(decoded.reason, /unknown schema id/);
});
