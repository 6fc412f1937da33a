/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/v0/index.js, which frames a produce request's records
 * as a record batch: the original started its three Encoders (body, batch, batch with first offset) at 512
 * bytes each and let them grow by copying, several times for a batch of thousands of records. This sizes
 * each to its content from the start. The bytes are the same:
 *
 *   RecordBatch => FirstOffset (int64) Length (int32) PartitionLeaderEpoch (int32) Magic (int8) CRC (int32)
 *     Attributes (int16) LastOffsetDelta (int32) FirstTimestamp MaxTimestamp ProducerId (int64)
 *     ProducerEpoch (int16) FirstSequence (int32) [Record]
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import { sizedEncoder } from './encoder.ts';
import type { Encoder, EncoderClass, KafkaRequire, LongClass } from './kafkajs-internals.ts';

const MAGIC_BYTE = 2;
const TIMESTAMP_MASK = 0; // the fourth lowest bit, always 0 since Kafka 0.10.0
const TRANSACTIONAL_MASK = 16; // the fifth lowest bit

export interface RecordBatchFields {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: number;
  maxTimestamp?: number;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: Encoder[];
}

interface Compression {
  Types: { None: number };
  lookupCodec(type: number): { compress(encoder: Encoder): Promise<Buffer> };
  COMPRESSION_CODEC_MASK: number;
}

/** The module's exports, over KafkaJS's Long, Encoder, CRC-32C and codecs. */
export function recordBatchModule(kafkaRequire: KafkaRequire): { RecordBatch: (batch: RecordBatchFields) => Promise<Encoder>; MAGIC_BYTE: number } {
  const Long = kafkaRequire('./src/utils/long') as LongClass;
  const Encoder = kafkaRequire('./src/protocol/encoder') as EncoderClass;
  const crc32C = kafkaRequire('./src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
  const { Types, lookupCodec, COMPRESSION_CODEC_MASK } = kafkaRequire('./src/protocol/message/compression') as Compression;

  const compressRecords = async (compression: number, records: Encoder[]) => {
    const codec = lookupCodec(compression);
    const recordsEncoder = new Encoder();
    recordsEncoder.writeEncoderArray(records);
    return codec.compress(recordsEncoder);
  };

  const RecordBatch = async ({
    compression = Types.None,
    firstOffset = Long.fromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = Long.fromValue(-1), // for idempotent messages
    producerEpoch = 0, // for idempotent messages
    firstSequence = 0, // for idempotent messages
    records = [],
  }: RecordBatchFields): Promise<Encoder> => {
    const attributes = (compression & COMPRESSION_CODEC_MASK) | TIMESTAMP_MASK | (transactional ? TRANSACTIONAL_MASK : 0);

    // 61 bytes of batch header before the records (a compressed body is smaller than this, or grows as usual).
    let recordsSize = 0;
    for (const record of records) recordsSize += record.offset ?? 0;
    const batchBody = sizedEncoder(Encoder, 64 + recordsSize)
      .writeInt16(attributes)
      .writeInt32(lastOffsetDelta)
      .writeInt64(firstTimestamp)
      .writeInt64(maxTimestamp)
      .writeInt64(producerId)
      .writeInt16(producerEpoch)
      .writeInt32(firstSequence);

    if (compression === Types.None) {
      if (records.every((record) => typeof record === typeof records[0])) batchBody.writeArray(records, typeof records[0]);
      else batchBody.writeArray(records);
    } else {
      const compressedRecords = await compressRecords(compression, records);
      batchBody.writeInt32(records.length).writeBuffer(compressedRecords);
    }

    // The CRC covers the attributes to the end: Kafka checks it in DefaultRecordBatch.
    const batch = sizedEncoder(Encoder, 16 + batchBody.size())
      .writeInt32(partitionLeaderEpoch)
      .writeInt8(MAGIC_BYTE)
      .writeUInt32(crc32C(batchBody.buffer))
      .writeEncoder(batchBody);

    return sizedEncoder(Encoder, 16 + batch.size()).writeInt64(firstOffset).writeBytes(batch.buffer);
  };

  return { RecordBatch, MAGIC_BYTE };
}
