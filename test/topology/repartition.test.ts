import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row, RowIdentity } from '../../topology/change-event.ts';
import { placeByRowKey } from '../../topology/repartition.ts';

const identity = (db: string, table: string, key: Row): RowIdentity => ({
  op: 'u',
  key,
  source: { db, table },
});

/**
 * Where a row lives in the repartition topic is a contract: a new version must place every row where the
 * last one did, or one row's changes would be applied by two sink partitions out of order. These are the
 * partitions (of 8 and of 5) that versions so far computed for these keys, in one batch (a long key midway).
 */
const PLACED: Array<[RowIdentity, number, number]> = [
  [identity('shop', 'items', { id: 1 }), 1, 4],
  [identity('shop', 'items', { id: 2n }), 1, 4],
  [identity('shop', 'items', { id: -9007199254740993n }), 3, 0],
  [identity('shop', 'items', { id: 1.5 }), 1, 1],
  [identity('shop', 'items', { id: -0 }), 2, 0],
  [identity('shop', 'items', { id: null }), 1, 0],
  [identity('shop', 'orders', { customer: 'ünïcødé 🙂', line: 7 }), 3, 1],
  [identity('shop', 'orders', { customer: 'x'.repeat(700), line: 8 }), 4, 2],
  [identity('shop', 'blobs', { hash: Buffer.from('00ff10', 'hex'), ok: true, gone: false }), 6, 4],
  [identity('schéma', 'tâble', { id: 'a' }), 1, 0],
  [identity('d'.repeat(300), 't'.repeat(300), { id: 3 }), 1, 3],
  [identity('shop', 'items', { id: 42 }), 0, 3],
];

test('rows are placed in the partitions earlier versions placed them in, and their records keep their bytes', () => {
  const rows = PLACED.map(([row]) => row);
  const encoded = rows.map((_, i) => ({ key: Buffer.from([i]), value: Buffer.from([100 + i]) }));
  for (const [partitions, column] of [
    [8, 1],
    [5, 2],
  ] as const) {
    const records = placeByRowKey('p.repartition', partitions, rows, encoded);
    assert.deepEqual(
      records.map(({ partition }) => partition),
      PLACED.map((placed) => placed[column]),
      `${partitions} partitions`,
    );
    records.forEach((record, i) => {
      assert.equal(record.key, encoded[i]!.key);
      assert.equal(record.value, encoded[i]!.value);
      assert.equal(record.topic, 'p.repartition');
    });
  }
});
