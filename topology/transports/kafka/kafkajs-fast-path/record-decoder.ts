/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/record/v0/decoder.js, which decodes one record of a
 * fetched batch: the original parsed the batch's first offset and first timestamp into Longs again for
 * every record, and built a Long, BigInts and a headers array per record. This parses them once per batch
 * (a batch's records are decoded one after another) and adds the deltas in numbers while the sums are exact
 * (offsets and millisecond timestamps are far below 2^53), in BigInt otherwise; a record without headers
 * reads no headers array. The records are the same.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import { readSmallVarLong } from './decoder.ts';
import type { Decoder, DecoderClass, KafkaRequire, LongClass } from './kafkajs-internals.ts';

export interface BatchContext {
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

/** The headers of a record without any: one object, read only, shared (the original made one per record). */
const NO_HEADERS: Record<string, Buffer | Buffer[]> = Object.freeze({});

/** The module's export, over KafkaJS's Long, header decoder and timestamp types. */
export function recordDecoder(kafkaRequire: KafkaRequire): (decoder: Decoder, batchContext?: BatchContext) => object {
  const Long = kafkaRequire('./src/utils/long') as LongClass;
  const { decodeZigZag } = kafkaRequire('./src/protocol/decoder') as DecoderClass;
  const decodeHeader = kafkaRequire('./src/protocol/recordBatch/header/v0/decoder') as (decoder: Decoder) => { key: string; value: Buffer };
  const TimestampTypes = kafkaRequire('./src/protocol/timestampTypes') as { LOG_APPEND_TIME: number };

  const readHeaders = (decoder: Decoder): Record<string, Buffer | Buffer[]> => {
    // Most records have none: then no array, as the original built through readVarIntArray.
    const start = decoder.offset;
    const count = decoder.readVarInt();
    if (count === 0 || count === -1) return NO_HEADERS;
    decoder.offset = start;
    // As the original: a header name given more than once collects its values in an array, in order.
    return decoder.readVarIntArray(decodeHeader).reduce<Record<string, Buffer | Buffer[]>>((collected, { key, value }) => {
      const previous = collected[key];
      return { ...collected, [key]: previous === undefined ? value : Array.isArray(previous) ? previous.concat([value]) : [previous, value] };
    }, {});
  };

  let lastBatch: BatchContext | undefined;
  let lastBase: BatchBase = { firstOffset: 0n, firstTimestamp: 0n, offsetNumber: 0, timestampNumber: 0 };
  const batchBase = (batchContext: BatchContext) => {
    if (batchContext !== lastBatch) {
      lastBatch = batchContext;
      const firstOffset = Long.fromValue(batchContext.firstOffset).value;
      const firstTimestamp = Long.fromValue(batchContext.firstTimestamp).value;
      lastBase = { firstOffset, firstTimestamp, offsetNumber: Number(firstOffset), timestampNumber: Number(firstTimestamp) };
    }
    return lastBase;
  };

  return (decoder, batchContext = {}) => {
    const { magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const attributes = decoder.readInt8();

    const timestampDelta = readSmallVarLong(decoder, decodeZigZag) ?? decoder.readVarLong().value;
    const base = batchBase(batchContext);
    const timestamp =
      timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : sum(base.firstTimestamp, base.timestampNumber, timestampDelta);

    const offset = sum(base.firstOffset, base.offsetNumber, decoder.readVarInt());

    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const headers = readHeaders(decoder);

    return {
      magicByte,
      attributes, // record attributes are unused
      timestamp,
      offset,
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
  };
}

/** A batch's first offset and timestamp, in BigInt and as (possibly rounded) numbers. */
interface BatchBase {
  firstOffset: bigint;
  firstTimestamp: bigint;
  offsetNumber: number;
  timestampNumber: number;
}

/**
 * base + delta in decimal, as BigInt arithmetic prints it: in numbers when both are exact integers and so is
 * their sum (a sum past 2^53 is never a safe integer, rounded or not).
 */
function sum(base: bigint, baseNumber: number, delta: number | bigint): string {
  if (typeof delta === 'number' && Number.isSafeInteger(baseNumber)) {
    const total = baseNumber + delta;
    if (Number.isSafeInteger(total)) return String(total);
  }
  return (base + BigInt(delta)).toString();
}
