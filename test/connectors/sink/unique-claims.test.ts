import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reduceBatch } from '../../../connectors/sink/key-actions.ts';
import { staleClaimants, type Claimant } from '../../../connectors/sink/unique-claims.ts';
import type { ChangeEvent, Row, TableSchema } from '../../../topology/change-event.ts';
import type { SinkRecord } from '../../../topology/sink.ts';
import { record } from '../support/records.ts';

const claimant = (keyId: string, position: string): Claimant => ({ keyId, position });

test('the newest claimant of a unique value wins; older ones are stale', () => {
  const older = claimant('1', '001');
  const newer = claimant('2', '003');
  const elsewhere = claimant('3', '002');
  const stale = staleClaimants([
    { uniqueKey: 0, valueId: 'lucy', claimant: older },
    { uniqueKey: 0, valueId: 'lucy', claimant: newer },
    { uniqueKey: 1, valueId: 'lucy', claimant: elsewhere },
  ]);
  assert.deepEqual([...stale], [older]);
});

test('snapshot rows tied on one position and one value are all stale', () => {
  const a = claimant('1', '000');
  const b = claimant('2', '000');
  assert.deepEqual(new Set(staleClaimants([{ uniqueKey: 0, valueId: 'v', claimant: a }, { uniqueKey: 0, valueId: 'v', claimant: b }])), new Set([a, b]));
});

const schema: TableSchema = {
  db: 'd',
  table: 't',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'name', type: 'varchar', nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [['name']],
};

test('a batch keeps the newest action per key, and a key-changing update deletes its before key', () => {
  const { tables, rejected } = reduceBatch([
    record(schema, 'c', null, { id: 1, name: 'x' }, 1),
    record(schema, 'u', { id: 1, name: 'x' }, { id: 2, name: 'x' }, 2),
    record(schema, 'c', null, { id: 3, name: 'y' }, 3),
    record(schema, 'd', { id: 3, name: 'y' }, null, 4),
  ]);
  assert.deepEqual(rejected, []);
  assert.deepEqual(
    tables[0]!.actions.map((action) => [action.key, action.position, action.row]),
    [
      [[1], '000000000002', null],
      [[2], '000000000002', { id: 2, name: 'x' }],
      [[3], '000000000004', null],
    ],
  );
});

test('an event without the image its op needs is rejected, not thrown', () => {
  const broken = record(schema, 'c', null, null, 1);
  broken.event.key = { id: 1 };
  const { tables, rejected } = reduceBatch([broken]);
  assert.deepEqual(tables[0]?.actions ?? [], []);
  assert.equal(rejected[0]?.record, broken);
  assert.match(rejected[0]!.reason, /no after image/);
});

test('MongoDB events reduce to one action per document: the key is the event key (`_id`), the images are whole documents', () => {
  const document = (id: number, v: number) => ({ doc: JSON.stringify({ _id: { $numberInt: String(id) }, v: { $numberInt: String(v) } }) });
  const mongo = (op: ChangeEvent['op'], id: number, after: Row | null, position: number): SinkRecord => ({
    event: {
      op,
      key: { _id: JSON.stringify({ $numberInt: String(id) }) },
      before: null,
      after,
      source: { connector: 'mongodb', name: 'm', db: 'shop', table: 'orders', position: String(position).padStart(12, '0'), tsMs: 0, snapshot: op === 'r' },
      tsMs: 0,
    },
    topic: 'changes',
    partition: 0,
    offset: String(position),
  });
  const { tables, rejected } = reduceBatch([
    mongo('r', 1, document(1, 0), 1),
    mongo('r', 2, document(2, 0), 1),
    mongo('u', 1, document(1, 1), 2),
    mongo('d', 2, null, 3),
    mongo('c', 3, document(3, 0), 4),
  ]);
  assert.deepEqual(rejected, []);
  assert.deepEqual(
    tables[0]!.actions.map((action) => [action.key, action.position, action.row]),
    [
      [['{"$numberInt":"1"}'], '000000000002', document(1, 1)],
      [['{"$numberInt":"2"}'], '000000000003', null],
      [['{"$numberInt":"3"}'], '000000000004', document(3, 0)],
    ],
  );
});
