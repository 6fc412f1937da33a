/**
 * Replaces KafkaJS 2.2.4's src/protocol/requests/produce/v3/request.js (produce requests v3 to v7 are
 * built by it): the original spread each whole message into a new object to encode it as a record, a large
 * share of the producer's time, and copied each record's Encoder into its batch; this writes each message's
 * fields straight into the batch. It also holds the fast path's record batch encoder, which it must: it
 * takes it from KafkaJS's require when first loaded. The bytes are the same:
 *
 *   ProduceRequest v3 => transactional_id (NULLABLE_STRING) acks (INT16) timeout (INT32) [topic_data]
 *     topic_data => topic (STRING) [data]; data => partition (INT32) record_set (RECORDS)
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import type { Encoder, EncoderClass, KafkaRequire, LongClass, Message } from './kafkajs-internals.ts';
import { recordCodec, recordSize } from './record.ts';
import type { RecordBatchFields, RecordSet } from './record-batch.ts';

export interface ProduceRequestFields {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: Message[] }[] }[];
}

interface Request {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<Encoder>;
}

/** The module's export, over KafkaJS's Long, Encoder, API keys, codecs, header and batch encoders. */
export function produceV3Request(kafkaRequire: KafkaRequire): (fields: ProduceRequestFields) => Request {
  const Long = kafkaRequire('./src/utils/long') as LongClass;
  const Encoder = kafkaRequire('./src/protocol/encoder') as EncoderClass;
  const { Produce: apiKey } = kafkaRequire('./src/protocol/requests/apiKeys') as { Produce: number };
  const { Types } = kafkaRequire('./src/protocol/message/compression') as { Types: { None: number } };
  const record = recordCodec(kafkaRequire);
  const { RecordBatch } = kafkaRequire('./src/protocol/recordBatch/v0') as { RecordBatch: (batch: RecordBatchFields) => Promise<Encoder> };

  interface PartitionData {
    partition: number;
    messages: Message[];
    transactionalId: string | null;
    firstSequence?: number;
    producerId: unknown;
    producerEpoch: number;
  }

  const partitionsEncoder =
    (compression: number) =>
    async ({ partition, messages, transactionalId, firstSequence, producerId, producerEpoch }: PartitionData) => {
      const dateNow = Date.now();
      // As the original: the timestamps given, sorted as they are (strings or numbers), else now.
      const messageTimestamps = messages
        .map((message) => message.timestamp)
        .filter((timestamp) => timestamp != null)
        .sort();
      const timestamps = messageTimestamps.length === 0 ? [dateNow] : messageTimestamps;
      const firstTimestamp = timestamps[0] as number;
      const maxTimestamp = timestamps[timestamps.length - 1] as number;

      // Each record's body size, then the records written with them straight into the batch.
      const timestampDelta = (message: Message) => ((message.timestamp || dateNow) as number) - firstTimestamp;
      const bodySizes = new Array<number>(messages.length);
      let size = 0;
      for (let i = 0; i < messages.length; i++) {
        const { key, value, headers } = messages[i]!;
        bodySizes[i] = record.bodySize(key, value, headers, timestampDelta(messages[i]!), i);
        size += recordSize(Encoder, bodySizes[i]!);
      }
      const records: RecordSet = {
        count: messages.length,
        size,
        writeTo: (encoder) => {
          for (let i = 0; i < messages.length; i++) {
            const { key, value, headers } = messages[i]!;
            record.write(encoder, key, value, headers, timestampDelta(messages[i]!), i, bodySizes[i]!);
          }
        },
      };

      const recordBatch = await RecordBatch({
        compression,
        records,
        firstTimestamp,
        maxTimestamp,
        producerId,
        producerEpoch,
        firstSequence,
        transactional: !!transactionalId,
        lastOffsetDelta: messages.length - 1,
      });

      return new Encoder().writeInt32(partition).writeInt32(recordBatch.size()).writeEncoder(recordBatch);
    };

  const topicEncoder =
    (compression: number) =>
    async ({ topic, partitions, transactionalId, producerId, producerEpoch }: ProduceRequestFields['topicData'][number] & Omit<PartitionData, 'partition' | 'messages'>) => {
      const encodePartitions = partitionsEncoder(compression);
      const encodedPartitions: Encoder[] = [];
      for (const data of partitions) encodedPartitions.push(await encodePartitions({ ...data, transactionalId, producerId, producerEpoch }));
      return new Encoder().writeString(topic).writeArray(encodedPartitions);
    };

  return ({ acks, timeout, transactionalId = null, producerId = Long.fromInt(-1), producerEpoch = 0, compression = Types.None, topicData }) => ({
    apiKey,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const encodeTopic = topicEncoder(compression);
      const encodedTopicData: Encoder[] = [];
      for (const data of topicData) encodedTopicData.push(await encodeTopic({ ...data, transactionalId, producerId, producerEpoch }));
      return new Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(encodedTopicData);
    },
  });
}
