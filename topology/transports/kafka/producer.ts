import type { Producer as KafkaJSProducer } from 'kafkajs';
import { Partitioners, type Kafka } from './kafkajs.ts';
import { recordBytes, type OutgoingRecord, type Producer, type ProducerOptions } from '../../transport.ts';
import { topicMessages } from './records.ts';

/** acks=all: a send resolves only once every in-sync replica has the records. */
const ALL_REPLICAS = -1;

/**
 * KafkaJS puts a send's records for one partition into one record batch, and the broker refuses a batch
 * over message.max.bytes (1 MB by default): 2000 events of 1 KB would be refused. A send is split into
 * requests of at most this many bytes of keys and values, one after the other (in one transaction when
 * transactional), so order and atomicity hold.
 */
const MAX_REQUEST_BYTES = 768 * 1024;

/**
 * A record batch (magic v2) is a 61-byte header and its records; a record adds to its key, value and
 * headers at most 36 bytes of framing (length, attributes, timestamp and offset deltas, key and value
 * lengths, header count, as varints of at most 5 bytes, 10 for the timestamp) and 10 per header.
 */
const BATCH_HEADER_BYTES = 61;
const RECORD_FRAMING_BYTES = 36;
const HEADER_FRAMING_BYTES = 10;

/** An upper bound of a record's bytes in a record batch. */
function batchedRecordBytes(record: OutgoingRecord): number {
  let bytes = recordBytes(record) + RECORD_FRAMING_BYTES;
  if (record.headers !== undefined) {
    for (const name in record.headers) bytes += HEADER_FRAMING_BYTES + Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!);
  }
  return bytes;
}

/**
 * A send as requests sent one after the other: each at most MAX_REQUEST_BYTES of keys and values and, with
 * `maxPartitionBatchBytes`, no partition's part (its record batch) above that bound. Splitting only between
 * requests keeps every partition's order.
 */
function chunks(records: readonly OutgoingRecord[], maxPartitionBatchBytes: number | undefined): Array<readonly OutgoingRecord[]> {
  // Almost every send fits one request: then it is that request, not a copy of it.
  let total = 0;
  let batched = BATCH_HEADER_BYTES;
  for (const record of records) {
    total += recordBytes(record);
    if (maxPartitionBatchBytes !== undefined) batched += batchedRecordBytes(record);
  }
  if (total <= MAX_REQUEST_BYTES && (maxPartitionBatchBytes === undefined || batched <= maxPartitionBatchBytes)) return [records];
  const result: OutgoingRecord[][] = [[]];
  let bytes = 0;
  // Per topic, per partition: the bytes of its batch in the request being filled.
  const partitionBytes = new Map<string, number[]>();
  for (const record of records) {
    const size = recordBytes(record);
    let inPartition = 0;
    let ofTopic: number[] | undefined;
    if (maxPartitionBatchBytes !== undefined) {
      ofTopic = partitionBytes.get(record.topic);
      if (ofTopic === undefined) partitionBytes.set(record.topic, (ofTopic = []));
      inPartition = ofTopic[record.partition] ?? BATCH_HEADER_BYTES;
    }
    const batchedSize = ofTopic === undefined ? 0 : batchedRecordBytes(record);
    const full = bytes + size > MAX_REQUEST_BYTES || (maxPartitionBatchBytes !== undefined && inPartition + batchedSize > maxPartitionBatchBytes);
    if (full && result.at(-1)!.length > 0) {
      result.push([]);
      bytes = 0;
      partitionBytes.clear();
      inPartition = BATCH_HEADER_BYTES;
      if (ofTopic !== undefined) partitionBytes.set(record.topic, (ofTopic = []));
    }
    result.at(-1)!.push(record);
    bytes += size;
    if (ofTopic !== undefined) ofTopic[record.partition] = inPartition + batchedSize;
  }
  return result;
}

/**
 * KafkaJS's own retries of a send, quicker at first than its default (300 ms, then doubling): a transaction
 * that starts while the broker still writes the previous one's commit markers gets CONCURRENT_TRANSACTIONS
 * on AddPartitionsToTxn, which clears in milliseconds (the Java producer retries it after 20 ms). At 300 ms
 * that wait was the p99 of commit-to-sink latency. About as patient in all (25 ms doubling, 9 retries:
 * ~13 s); what still fails goes to the topology's retry (topology/retry.ts).
 */
const PRODUCER_RETRY = { initialRetryTime: 25, retries: 9 };

async function connectedProducer(kafka: Kafka, transactionalId: string | undefined): Promise<KafkaJSProducer> {
  const producer = kafka.producer({
    idempotent: true,
    // KafkaJS serialises an idempotent producer's requests per broker anyway; 5 is the most idempotence allows.
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    // Every record carries its partition (murmur2.ts); naming a partitioner only silences KafkaJS's v2 notice.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: PRODUCER_RETRY,
    ...(transactionalId === undefined ? {} : { transactionalId }),
  });
  await producer.connect();
  // A transactional producer claims its id now, not at its first send: claiming fences an older instance
  // with the same id (a killed process) and aborts the transaction it left open, which until then holds
  // back every read_committed reader of its partitions, the token topic among them.
  if (transactionalId !== undefined) {
    try {
      await (await producer.transaction()).abort();
    } catch (error) {
      // Nobody gets this producer to close: its broker connections would keep the process alive.
      await producer.disconnect().catch(() => {});
      throw error;
    }
  }
  return producer;
}

/**
 * An idempotent producer (retries never duplicate or reorder a partition's records), or with a
 * transactionalId a transactional one: each send is one transaction (begin → send → commit, abort on any
 * error), so read_committed consumers see all of a send's records or none. Sends run one at a time.
 *
 * After a failed send the KafkaJS producer is replaced by a new one (a new producer id or epoch).
 * KafkaJS 2.2.4 rolls back the sequence numbers of every partition of a failed produce request, also of
 * those the broker appended; the broker would then take the next records of such a partition for
 * retries of the ones it has and drop them, reporting success. A new epoch starts sequences afresh.
 */
export async function kafkaProducer(kafka: Kafka, options: ProducerOptions = {}): Promise<Producer> {
  const { transactionalId, maxPartitionBatchBytes } = options;
  let current: Promise<KafkaJSProducer> | undefined = connectedProducer(kafka, transactionalId);
  // After a failure the next send connects a new producer (after the old one has disconnected). Connecting
  // only when a send needs it means a broker that is down fails that send, never a background promise
  // nobody awaits (an unhandled rejection ends the process).
  let retiring: Promise<unknown> = Promise.resolve();
  const sendOnce = async (records: readonly OutgoingRecord[]) => {
    let producer: KafkaJSProducer;
    try {
      producer = await (current ??= retiring.then(() => connectedProducer(kafka, transactionalId)));
    } catch (error) {
      current = undefined;
      throw error;
    }
    try {
      if (transactionalId === undefined) {
        for (const chunk of chunks(records, maxPartitionBatchBytes)) await producer.sendBatch({ topicMessages: topicMessages(chunk), acks: ALL_REPLICAS });
        return;
      }
      const transaction = await producer.transaction();
      try {
        for (const chunk of chunks(records, maxPartitionBatchBytes)) await transaction.sendBatch({ topicMessages: topicMessages(chunk), acks: ALL_REPLICAS });
        await transaction.commit();
      } catch (error) {
        // When the abort fails too (fenced, broker gone), the broker aborts it at the transaction timeout.
        await transaction.abort().catch(() => {});
        throw error;
      }
    } catch (error) {
      retiring = producer.disconnect().catch(() => {});
      current = undefined;
      throw error;
    }
  };
  await current;
  let previous: Promise<unknown> = Promise.resolve();
  return {
    send: (records) => {
      if (records.length === 0) return Promise.resolve();
      const sent = previous.then(() => sendOnce(records));
      previous = sent.catch(() => {});
      return sent;
    },
    close: async () => {
      await previous;
      await retiring;
      await (await current?.catch(() => undefined))?.disconnect();
    },
  };
}
