import type { ChangeEvent, RowIdentity } from './change-event.ts';
import type { EventSerde } from './serde.ts';
import type { OutgoingRecord } from './transport.ts';
import { RowKeyWriter } from './key-encoding.ts';
import { partitionForKey } from './murmur2.ts';
import { placeRecords } from './record-placement.ts';

/**
 * Re-keys events by table + primary key into `partitions` partitions with the Java default partitioner
 * (murmur2, toPositive, modulo), so every change of one row lands in one partition, in the order given here.
 *
 * The partition is computed from the canonical row key (key-encoding.ts), not from the serialized key:
 * the serialized key embeds a registry schema id, which changes with the key schema's version, and a row
 * must not move partitions when it does. A Java client computes the same partition by hashing the same
 * canonical bytes. The record key itself is the Avro key in the Confluent wire format, so the repartition
 * topic reads like every other topic (and MongoDB deletes, whose value holds no document, keep their `_id`).
 * A `t` event goes to every partition (record-placement.ts).
 */
export async function repartitionRecords(serde: EventSerde, topic: string, partitions: number, events: readonly ChangeEvent[]): Promise<OutgoingRecord[]> {
  return placeByRowKey(topic, partitions, events, await serde.encode(topic, events));
}

/** The records `encoded` (same order as `rows`) placed by their rows' keys: a forwarded record keeps its bytes. */
export function placeByRowKey(topic: string, partitions: number, rows: readonly RowIdentity[], encoded: readonly Pick<OutgoingRecord, 'key' | 'value'>[]): OutgoingRecord[] {
  return placeRecords(topic, partitions, rows, encoded, (i) => {
    // Written first: a long key grows the buffer.
    const length = keys.write(rows[i]!);
    return partitionForKey(keys.buffer, partitions, length);
  });
}

// Each row key is hashed as soon as it is written: one buffer for all of them.
const keys = new RowKeyWriter();
