import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reduceBatch } from '../../../connectors/sink/key-actions.ts';
import type { TableSchema } from '../../../topology/change-event.ts';
import { record, truncateRecord } from '../support/records.ts';

const schema: TableSchema = { db: 'd', table: 't', columns: [{ name: 'id', type: 'int', nullable: false }], primaryKey: ['id'], uniqueKeys: [] };

const truncate = (position: number) => truncateRecord(schema, position);

test('a truncate keeps the newest truncate position of its table and drops the actions older than it, wherever they are in the batch', () => {
  const { tables, rejected } = reduceBatch([
    truncate(1),
    record(schema, 'c', null, { id: 1 }, 2),
    record(schema, 'c', null, { id: 2 }, 5),
    truncate(4),
    record(schema, 'c', null, { id: 3 }, 3),
    record(schema, 'r', null, { id: 4 }, 4),
  ]);
  assert.deepEqual(rejected, []);
  assert.equal(tables[0]!.truncatedBefore, '000000000004');
  assert.deepEqual(
    tables[0]!.actions.map((action) => action.key),
    [[2], [4]],
  );
});

test('a batch that begins with a truncate takes its key columns from the schema, and from the rows when it has none', () => {
  const keyless: TableSchema = { ...schema, primaryKey: [] };
  const mongoLike = truncate(1);
  mongoLike.event.schema = keyless;
  const row = record(schema, 'c', null, { id: 7 }, 2);
  row.event.schema = keyless;
  const { tables } = reduceBatch([mongoLike, row]);
  assert.deepEqual(tables[0]!.keyColumns, ['id']);
  assert.deepEqual(tables[0]!.actions.map((action) => action.key), [[7]]);
});
