import assert from 'node:assert/strict';
import type { TableSchema } from '../../../topology/change-event.ts';
import type { SinkConnector } from '../../../topology/sink.ts';
import { record, truncateRecord, typedRow, typedSchema } from './records.ts';

/** How a test reads a sink's target: `[id, note, __cdc_pos]` rows of `items_truncate` in id order, and whether a table exists. */
export interface TruncateProbe {
  rows(): Promise<unknown[][]>;
  /** Absent where the target makes an empty table of any delete (mongo-java-server does, a real mongod does not). */
  exists?(table: string): Promise<boolean>;
}

/**
 * One scenario for every sink (its `shop.items` mapped to `items_truncate`): rows 1-3 written, then a
 * re-snapshot's batch (a newer row, the truncate, a snapshot row at the truncate's position) applied
 * twice; rows 1 and 3, written before the truncate and not in the snapshot, are gone. The second time
 * the sink reports both rows skipped by the position rule (the target holds them at their positions). A
 * truncate of a table the sink never wrote creates nothing.
 */
export async function truncateConverges(sink: SinkConnector, probe: TruncateProbe): Promise<void> {
  await sink.apply([1, 2, 3].map((id) => record(typedSchema, 'c', null, typedRow(id, id, 'old'), id)));
  const resnapshot = [record(typedSchema, 'c', null, typedRow(4, 4, 'new'), 6), truncateRecord(typedSchema, 5), record(typedSchema, 'r', null, typedRow(2, 2, 'again'), 5)];
  for (let copy = 0; copy < 2; copy++) {
    assert.deepEqual(await sink.apply(resnapshot), { rejected: [], skipped: copy === 0 ? [] : [resnapshot[0], resnapshot[2]] });
    assert.deepEqual(await probe.rows(), [
      [2, 'again', '000000000005'],
      [4, 'new', '000000000006'],
    ]);
  }
  const absent: TableSchema = { ...typedSchema, table: 'never_written' };
  assert.deepEqual(await sink.apply([truncateRecord(absent, 7)]), { rejected: [], skipped: [] });
  if (probe.exists) assert.equal(await probe.exists('never_written'), false);
}

/**
 * The truncate floor, for every sink (its `shop.items` mapped to `items_floor`, a table it never wrote):
 * a `t` at 10 comes before older rows of its table in their partition (a snapshot end marker ahead of
 * a lagging repartition stage). The older rows, and an older key-changing update, are skipped and stay
 * absent; newer ones apply; the floor holds for a new sink on the same target (a restart) and rises with
 * a later truncate; a replay of the whole stream, in one batch and one record at a time, changes nothing.
 */
export async function truncateFloorHolds(open: () => Promise<SinkConnector>, probe: TruncateProbe): Promise<void> {
  const truncate = truncateRecord(typedSchema, 10);
  const older = record(typedSchema, 'c', null, typedRow(1, 1, 'older'), 3);
  const newer = record(typedSchema, 'c', null, typedRow(2, 2, 'newer'), 11);
  const olderKeyChange = record(typedSchema, 'u', typedRow(5, 5, 'older'), typedRow(6, 6, 'older'), 5);
  const olderAfterRestart = record(typedSchema, 'c', null, typedRow(4, 4, 'older'), 9);
  const newest = record(typedSchema, 'u', typedRow(2, 2, 'newer'), typedRow(2, 2, 'newest'), 12);
  const laterTruncate = truncateRecord(typedSchema, 13);
  const afterLater = record(typedSchema, 'c', null, typedRow(8, 8, 'after'), 14);
  const olderThanLater = record(typedSchema, 'c', null, typedRow(9, 9, 'older'), 12);
  let sink = await open();
  try {
    assert.deepEqual(await sink.apply([truncate]), { rejected: [], skipped: [] });
    assert.deepEqual(await sink.apply([older]), { rejected: [], skipped: [older] });
    assert.deepEqual(await probe.rows(), []);
    assert.deepEqual(await sink.apply([newer, olderKeyChange]), { rejected: [], skipped: [olderKeyChange] });
    assert.deepEqual(await probe.rows(), [[2, 'newer', '000000000011']]);
    await sink.close();
    sink = await open();
    assert.deepEqual(await sink.apply([olderAfterRestart]), { rejected: [], skipped: [olderAfterRestart] }, 'the floor is kept in the target');
    assert.deepEqual(await sink.apply([newest]), { rejected: [], skipped: [] });
    assert.deepEqual(await probe.rows(), [[2, 'newest', '000000000012']]);
    assert.deepEqual(await sink.apply([laterTruncate, afterLater]), { rejected: [], skipped: [] });
    assert.deepEqual(await sink.apply([olderThanLater]), { rejected: [], skipped: [olderThanLater] });
    const final = [[8, 'after', '000000000014']];
    assert.deepEqual(await probe.rows(), final);
    const stream = [truncate, older, newer, olderKeyChange, olderAfterRestart, newest, laterTruncate, afterLater, olderThanLater];
    assert.deepEqual(await sink.apply(stream), { rejected: [], skipped: stream.filter((each) => each.event.op !== 't') });
    assert.deepEqual(await probe.rows(), final);
    for (const each of stream) {
      await sink.apply([each]);
      assert.deepEqual(await probe.rows(), final, `replay of the record at ${each.event.source.position}`);
    }
  } finally {
    await sink.close();
  }
}
