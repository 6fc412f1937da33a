import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { ConsumedRecord } from '../../transport.ts';
import { consumedRecord, nextOffset } from './records.ts';
import { topicOffsets } from './topic-offsets.ts';

/**
 * Reads `topic` from its start to the end offsets it had when called. KafkaJS has no assign(), so this
 * joins a group of its own (a fresh id, nothing committed, so Kafka forgets it once left).
 *
 * The end is what KafkaJS's admin reports as each partition's latest offset at the start: under
 * read_committed that is the last stable offset, so a transaction still open then is not waited for
 * (its records are not "committed records when called"). A partition is finished once the consumed
 * position reaches that end, counting what read_committed never hands over: transaction markers and
 * records of aborted transactions (KafkaJS reports those batches' last offsets too). Counting only
 * delivered records would wait forever on a partition that ends with a commit marker.
 */
export async function readToEnd(kafka: Kafka, admin: Admin, topic: string, onRecord: (record: ConsumedRecord) => unknown, fetchMaxWaitMs: number): Promise<void> {
  const ends = new Map<number, bigint>();
  for (const { partition, high, low } of await topicOffsets(admin, topic)) {
    if (BigInt(high) > BigInt(low)) ends.set(partition, BigInt(high));
  }
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: `read-to-end.${topic}.${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: fetchMaxWaitMs });
  try {
    await new Promise<void>((resolve, reject) => {
      const reached = (partition: number, lastOffset: string) => {
        const end = ends.get(partition);
        if (end !== undefined && BigInt(nextOffset(lastOffset)) >= end) ends.delete(partition);
        if (ends.size === 0) resolve();
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reached(payload.partition, payload.lastOffset));
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // KafkaJS rejoins by itself after a retriable crash; this read is then simply slower.
        if (!payload.restart) reject(payload.error);
      });
      void (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          partitionsConsumedConcurrently: ends.size,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            try {
              for (const message of batch.messages) {
                if (end !== undefined && BigInt(message.offset) < end) await onRecord(consumedRecord(topic, batch.partition, message));
              }
            } catch (error) {
              reject(error);
            }
          },
        });
      })().catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}
