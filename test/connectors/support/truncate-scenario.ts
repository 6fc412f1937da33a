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
