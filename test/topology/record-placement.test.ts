import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncateEvent, type ChangeEvent } from '../../topology/change-event.ts';
import { placeRecords } from '../../topology/record-placement.ts';

const source = { connector: 'mysql', name: 's', db: 'shop', table: 'items', position: '1', tsMs: 0, snapshot: false } as const;
const row = (id: number): ChangeEvent => ({ op: 'c', key: { id }, before: null, after: { id }, source, tsMs: 0 });

test('a row record goes to its key\'s partition; a truncate goes to every partition, in its place among the rows', () => {
  const events = [row(1), truncateEvent(source, undefined), row(2)];
  const encoded = events.map((event, i) => ({ key: event.op === 't' ? null : Buffer.from([i]), value: Buffer.from([10 + i]) }));
  const records = placeRecords('t', 3, events, encoded, (i) => (i === 0 ? 2 : 1));
  assert.deepEqual(
    records.map((record) => [record.partition, record.key?.[0] ?? null, record.value![0]]),
    [
      [2, 0, 10],
      [0, null, 11],
      [1, null, 11],
      [2, null, 11],
      [1, 2, 12],
    ],
  );
});
