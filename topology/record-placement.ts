import type { RowIdentity } from './change-event.ts';
import type { OutgoingRecord } from './transport.ts';

/**
 * The records of `events` (encoded in `encoded`, same order) on `topic`: a row's record in the partition
 * `partitionOf` gives it, a `t` event's in every partition. A truncate has no row to hash, and each
 * partition's consumer must meet it after the older rows of that partition, so every partition gets a copy.
 */
export function placeRecords(
  topic: string,
  partitions: number,
  events: readonly Pick<RowIdentity, 'op'>[],
  encoded: readonly Pick<OutgoingRecord, 'key' | 'value'>[],
  partitionOf: (index: number) => number,
): OutgoingRecord[] {
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const { key, value } = encoded[i]!;
    if (events[i]!.op === 't') {
      for (let partition = 0; partition < partitions; partition++) records.push({ topic, partition, key, value });
    } else {
      records.push({ topic, partition: partitionOf(i), key, value });
    }
  }
  return records;
}
