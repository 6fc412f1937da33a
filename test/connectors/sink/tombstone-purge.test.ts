import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastPositions, PurgeFloors, sourceFloors, TombstonePurger, type PartitionProgress } from '../../../connectors/sink/tombstone-purge.ts';
import type { TableSchema } from '../../../topology/change-event.ts';
import type { SinkContext } from '../../../topology/sink.ts';
import { record } from '../support/records.ts';

const HOUR = 3_600_000;
const progress = (source: string, partition: number, position: string): PartitionProgress => ({ source, partition, position });

test('a source floor is the oldest last position over all partitions; a partition without a row leaves its source without floor', () => {
  const floors = sourceFloors(
    [progress('shop', 0, '0009'), progress('shop', 1, '0004'), progress('shop', 2, '0007'), progress('crm', 0, '0100'), progress('crm', 2, '0200'), progress('shop', 7, '0001')],
    3,
  );
  assert.deepEqual([...floors], [['shop', '0004']]);
});

test('the purge floor exists only after a whole retention window of observations, and is the lowest floor of the window', () => {
  const floors = new PurgeFloors(2 * HOUR);
  floors.observe(0, new Map([['shop', '0010']]));
  floors.observe(1 * HOUR, new Map([['shop', '0020']]));
  assert.equal(floors.floor('shop', 1 * HOUR), undefined, 'watched for less than the window');
  floors.observe(2 * HOUR, new Map([['shop', '0030']]));
  assert.equal(floors.floor('shop', 2 * HOUR), '0010', 'the observation at the window start held until the next one');
  floors.observe(3 * HOUR + 1, new Map([['shop', '0040']]));
  assert.equal(floors.floor('shop', 3 * HOUR + 1), '0020');
  assert.equal(floors.floor('crm', 3 * HOUR + 1), undefined);
});

test('a floor that goes down (a replay, a re-sent stretch) holds purging back at once, for a whole window', () => {
  const floors = new PurgeFloors(2 * HOUR);
  for (let hour = 0; hour <= 4; hour++) floors.observe(hour * HOUR, new Map([['shop', String(10 * (hour + 1)).padStart(4, '0')]]));
  assert.equal(floors.floor('shop', 4 * HOUR), '0030');
  floors.observe(4 * HOUR + 1, new Map([['shop', '0005']]));
  assert.equal(floors.floor('shop', 4 * HOUR + 1), '0005');
  floors.observe(6 * HOUR, new Map([['shop', '0070']]));
  assert.equal(floors.floor('shop', 6 * HOUR), '0005', 'the low floor is still inside the window');
  floors.observe(7 * HOUR, new Map([['shop', '0080']]));
  assert.equal(floors.floor('shop', 7 * HOUR), '0005', 'it held until the observation at 6 h, inside the window');
  floors.observe(8 * HOUR + 1, new Map([['shop', '0090']]));
  assert.equal(floors.floor('shop', 8 * HOUR + 1), '0070');
});

test('a source that loses its floor (a partition without progress) starts its window again', () => {
  const floors = new PurgeFloors(HOUR);
  floors.observe(0, new Map([['shop', '0010']]));
  floors.observe(HOUR, new Map([['shop', '0020']]));
  assert.equal(floors.floor('shop', HOUR), '0010');
  floors.observe(2 * HOUR, new Map());
  floors.observe(3 * HOUR, new Map([['shop', '0040']]));
  assert.equal(floors.floor('shop', 3 * HOUR), undefined);
  floors.observe(4 * HOUR, new Map([['shop', '0050']]));
  assert.equal(floors.floor('shop', 4 * HOUR), '0040');
});

test("a batch's progress is its last record's position per source, in offset order", () => {
  const schema: TableSchema = { db: 'shop', table: 't', columns: [{ name: 'id', type: 'int', nullable: false }], primaryKey: ['id'], uniqueKeys: [] };
  const crm = record({ ...schema, db: 'crm' }, 'c', null, { id: 1 }, 2);
  crm.event.source.name = 'crm';
  // A re-sent stretch: the last record is older than one before it, and the progress goes back with it.
  const batch = [record(schema, 'c', null, { id: 1 }, 5), crm, record(schema, 'd', { id: 1 }, null, 9), record(schema, 'c', null, { id: 1 }, 5)];
  assert.deepEqual([...lastPositions(batch)], [
    ['test', '000000000005'],
    ['crm', '000000000002'],
  ]);
});

test('a purge pass observes the progress and purges each source below its purge floor', async () => {
  const purges: Array<[string, string]> = [];
  let rows = [progress('shop', 0, '0010'), progress('shop', 1, '0012')];
  const context: SinkContext = { topic: 'p.repartition', partitions: 2, purged: () => {}, warn: () => {} };
  const purger = new TombstonePurger({ retentionMs: HOUR, purgeIntervalMs: HOUR, batchSize: 10 }, context, {
    readProgress: async () => rows,
    purgeBelow: async (source, floor) => void purges.push([source, floor]),
  });
  await purger.pass(0);
  rows = [progress('shop', 0, '0030'), progress('shop', 1, '0020')];
  await purger.pass(HOUR);
  await purger.pass(2 * HOUR);
  assert.deepEqual(purges, [
    ['shop', '0010'],
    ['shop', '0020'],
  ]);
});
