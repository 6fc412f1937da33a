import type { ChangeEvent } from './change-event.ts';
import type { EventSerde } from './serde.ts';
import type { OutgoingRecord } from './transport.ts';
import { encodeRowKey } from './key-encoding.ts';
import { partitionForKey } from './murmur2.ts';

/**
 * Re-keys events by table + primary key (key-encoding.ts) into `partitions` partitions with the Java
 * default partitioner, so every change of one row lands in one partition, in the order given here.
 * The record key is the canonical row key itself, so a Java consumer hashing it agrees.
 */
export async function repartitionRecords(serde: EventSerde, topic: string, partitions: number, events: readonly ChangeEvent[]): Promise<OutgoingRecord[]> {
  const encoded = await serde.encode(topic, events);
  return encoded.map(({ value }, i) => {
    const key = encodeRowKey(events[i]!);
    return { topic, partition: partitionForKey(key, partitions), key, value };
  });
}
