/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/record/v0/decoder.js, which decodes one record of a
 * fetched batch: the original parsed the batch's first offset and first timestamp into Longs again for
 * every record. This parses them once per batch (a batch's records are decoded one after another) and adds
 * the deltas in BigInt. The records are the same.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import type { Decoder, KafkaRequire, LongClass } from './kafkajs-internals.ts';

export interface BatchContext {
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

/** The module's export, over KafkaJS's Long, header decoder and timestamp types. */
export function recordDecoder(kafkaRequire: KafkaRequire): (decoder: Decoder, batchContext?: BatchContext) => object {
  const Long = kafkaRequire('./src/utils/long') as LongClass;
  const decodeHeader = kafkaRequire('./src/protocol/recordBatch/header/v0/decoder') as (decoder: Decoder) => { key: string; value: Buffer };
  const TimestampTypes = kafkaRequire('./src/protocol/timestampTypes') as { LOG_APPEND_TIME: number };

  let lastBatch: BatchContext | undefined;
  let lastBase = { firstOffset: 0n, firstTimestamp: 0n };
  const batchBase = (batchContext: BatchContext) => {
    if (batchContext !== lastBatch) {
      lastBatch = batchContext;
      lastBase = { firstOffset: Long.fromValue(batchContext.firstOffset).value, firstTimestamp: Long.fromValue(batchContext.firstTimestamp).value };
    }
    return lastBase;
  };

  return (decoder, batchContext = {}) => {
    const { magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const attributes = decoder.readInt8();

    const timestampDelta = decoder.readVarLong();
    const base = batchBase(batchContext);
    const timestamp =
      timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : (base.firstTimestamp + timestampDelta.value).toString();

    const offsetDelta = decoder.readVarInt();
    const offset = (base.firstOffset + BigInt(offsetDelta)).toString();

    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    // As the original: a header name given more than once collects its values in an array, in order.
    const headers = decoder.readVarIntArray(decodeHeader).reduce<Record<string, Buffer | Buffer[]>>((collected, { key, value }) => {
      const previous = collected[key];
      return { ...collected, [key]: previous === undefined ? value : Array.isArray(previous) ? previous.concat([value]) : [previous, value] };
    }, {});

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
