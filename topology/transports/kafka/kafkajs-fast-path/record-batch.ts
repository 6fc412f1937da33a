/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/v0/index.js, which frames a produce request's records
 * as a record batch: the original started its three Encoders (body, batch, batch with first offset) at 512
 * bytes each and let them grow by copying, several times for a batch of thousands of records, then copied
 * the body into the batch and the batch into its frame. This writes the whole batch into one Encoder sized
 * to it, its Length and CRC filled in last; the records come as Encoders (as in KafkaJS) or as a RecordSet
 * written straight into it. The bytes are the same:
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

// Where Length and CRC are, and where the CRC's range (Attributes to the end) begins.
const LENGTH_AT = 8;
const CRC_AT = 17;
const CRC_FROM = 21;
// The header up to the records' count, the count included.
const HEADER_SIZE = 61;

/** Records written straight into a batch: how many, their bytes, and how to write them. */
export interface RecordSet {
  count: number;
  size: number;
  writeTo(encoder: Encoder): void;
}

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
  records?: Encoder[] | RecordSet;
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

  /** KafkaJS's records, each in an Encoder of its own. */
  const encodedRecords = (records: Encoder[]): RecordSet => {
    let size = 0;
    for (const record of records) size += record.offset;
    return { count: records.length, size, writeTo: (encoder) => void encoder.writeEncoderArray(records) };
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
    const recordSet = Array.isArray(records) ? encodedRecords(records) : records;

    // A compressed body is smaller than this, or the Encoder grows as usual.
    const batch = sizedEncoder(Encoder, HEADER_SIZE + recordSet.size)
      .writeInt64(firstOffset)
      .writeInt32(0) // Length, below
      .writeInt32(partitionLeaderEpoch)
      .writeInt8(MAGIC_BYTE)
      .writeUInt32(0) // CRC, below
      .writeInt16(attributes)
      .writeInt32(lastOffsetDelta)
      .writeInt64(firstTimestamp)
      .writeInt64(maxTimestamp)
      .writeInt64(producerId)
      .writeInt16(producerEpoch)
      .writeInt32(firstSequence)
      .writeInt32(recordSet.count);

    if (compression === Types.None) {
      recordSet.writeTo(batch);
    } else {
      const recordsEncoder = new Encoder();
      recordSet.writeTo(recordsEncoder);
      batch.writeBuffer(await lookupCodec(compression).compress(recordsEncoder));
    }

    batch.buf.writeInt32BE(batch.offset - (LENGTH_AT + 4), LENGTH_AT);
    // The CRC covers the attributes to the end: Kafka checks it in DefaultRecordBatch.
    batch.buf.writeUInt32BE(crc32C(batch.buf.subarray(CRC_FROM, batch.offset)), CRC_AT);
    return batch;
  };

  return { RecordBatch, MAGIC_BYTE };
}
