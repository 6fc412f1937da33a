import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { COLUMN_ATTR, tableEventSchemas, type FieldSchema } from '../../serdes/avro-schema.ts';
import { collectionEventSchemas } from '../../serdes/mongo-avro-schema.ts';
import { MYSQL_TYPES } from '../../serdes/mysql-types.ts';
import { SchemaIncompatibleError } from '../../serdes/errors.ts';
import { tableSchemaOf, valueRecordOf } from '../../serdes/table-schema-from-avro.ts';
import { allTypesTable } from './all-types.ts';

const table = allTypesTable('shop-1', 'all types');

test('the fixture covers every type the mapping knows', () => {
  assert.deepEqual(new Set(table.columns.map((c) => c.type)), new Set(MYSQL_TYPES));
});

test('record names follow Debezium, with names Avro rejects adjusted', () => {
  const { key, value } = tableEventSchemas('srv', table);
  assert.equal(`${key.namespace}.${key.name}`, 'srv.shop_1.all_types.Key');
  assert.equal(`${value.namespace}.${value.name}`, 'srv.shop_1.all_types.Envelope');
  assert.deepEqual(value.fields.map((f) => f.name), ['before', 'after', 'source', 'op', 'ts_ms']);
  assert.equal(valueRecordOf(value)?.name, 'Value');
  assert.deepEqual(key.fields.map((f) => f.name), ['id']);
  // Plain avsc accepts the schemas as they are.
  avsc.Type.forSchema(value as avsc.Schema);
  avsc.Type.forSchema(key as avsc.Schema);
});

test('a NULLable column is a union with null first and a null default; NOT NULL has a default too', () => {
  const fields = valueRecordOf(tableEventSchemas('srv', table).value)?.fields as FieldSchema[];
  for (const field of fields) {
    const column = field[COLUMN_ATTR] as { nullable: boolean };
    if (column.nullable) {
      assert.ok(Array.isArray(field.type) && field.type[0] === 'null', field.name);
      assert.equal(field.default, null);
    } else {
      assert.ok(!Array.isArray(field.type), field.name);
      assert.notEqual(field.default, undefined, field.name);
    }
  }
});

test('the TableSchema comes back from the writer schema alone', () => {
  const value = JSON.parse(JSON.stringify(tableEventSchemas('srv', table).value));
  assert.deepEqual(tableSchemaOf(value), table);
});

test('field names that adjust to the same Avro name are numbered', () => {
  const columns = ['a-b', 'a_b', 'a b'].map((name) => ({ name, type: 'int', nullable: false }));
  const value = valueRecordOf(tableEventSchemas('p', { db: 'd', table: 't', columns, primaryKey: [], uniqueKeys: [] }).value);
  assert.deepEqual(value?.fields.map((f) => f.name), ['a_b', 'a_b_2', 'a_b_3']);
});

test('a type with no mapping is refused naming the table and column', () => {
  const odd = { db: 'd', table: 't', columns: [{ name: 'c', type: 'hyperloglog', nullable: false }], primaryKey: [], uniqueKeys: [] };
  assert.throws(
    () => tableEventSchemas('p', odd),
    (error: unknown) => error instanceof SchemaIncompatibleError && error.table === 'd.t' && error.column === 'c',
  );
});

test('MongoDB: before/after and the key id are Extended JSON strings', () => {
  const { key, value } = collectionEventSchemas('srv', 'app', 'users');
  assert.equal(`${value.namespace}.${value.name}`, 'srv.app.users.Envelope');
  const stringBranch = (field: FieldSchema | undefined) => (field?.type as unknown[])[1];
  assert.deepEqual(stringBranch(value.fields[0]), { type: 'string', 'connect.name': 'io.debezium.data.Json' });
  assert.deepEqual(stringBranch(value.fields[1]), { type: 'string', 'connect.name': 'io.debezium.data.Json' });
  assert.deepEqual(key.fields.map((f) => [f.name, f.type]), [['id', { type: 'string', 'connect.name': 'io.debezium.data.Json' }]]);
});
