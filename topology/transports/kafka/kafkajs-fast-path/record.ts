/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/record/v0/index.js, which encodes one record of a
 * produce request: the original gave every record a 512-byte zero-filled Encoder (most of the producer's
 * garbage) and built arrays for its headers even when it had none. This one sizes the Encoder to the record
 * and writes no headers without the general case's arrays. The bytes are the same:
 *
 *   Record => Length Attributes TimestampDelta OffsetDelta Key Value [Headers]
 *     Length, OffsetDelta => VarInt; Attributes => Int8; TimestampDelta => VarLong
 *     Key, Value => VarInt|Bytes; Header => Key (VarInt|String) Value (VarInt|Bytes)
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import { sizedEncoder } from './encoder.ts';
import type { Encoder, EncoderClass, KafkaRequire } from './kafkajs-internals.ts';

export interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value: unknown;
  headers?: Record<string, unknown>;
}

interface Header {
  key: string;
  value: Buffer | string | null;
}

const NO_HEADERS: Header[] = [];

/** The module's export, over KafkaJS's Encoder and header encoder. */
export function recordEncoder(kafkaRequire: KafkaRequire): (record: RecordFields) => Encoder {
  const Encoder = kafkaRequire('./src/protocol/encoder') as EncoderClass;
  const encodeHeader = kafkaRequire('./src/protocol/recordBatch/header/v0') as (header: Header) => Encoder;

  const sizeOfHeaders = (headers: Header[]): number => {
    let size = Encoder.sizeOfVarInt(headers.length);
    for (const header of headers) {
      const keySize = Buffer.byteLength(header.key);
      size += Encoder.sizeOfVarInt(keySize) + keySize;
      if (header.value === null) size += Encoder.sizeOfVarInt(-1);
      else {
        const valueSize = Buffer.byteLength(header.value);
        size += Encoder.sizeOfVarInt(valueSize) + valueSize;
      }
    }
    return size;
  };

  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const headerList = hasAny(headers)
      ? Object.keys(headers).flatMap((headerKey) => {
          const headerValue = headers[headerKey];
          return Array.isArray(headerValue)
            ? headerValue.map((each: Header['value']) => ({ key: headerKey, value: each }))
            : [{ key: headerKey, value: headerValue as Header['value'] }];
        })
      : NO_HEADERS;

    const sizeOfBody =
      1 + // attributes, always one byte
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      sizeOfHeaders(headerList);

    const encoder = sizedEncoder(Encoder, Encoder.sizeOfVarInt(sizeOfBody) + sizeOfBody)
      .writeVarInt(sizeOfBody)
      .writeInt8(0) // no record attributes are used
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(key)
      .writeVarIntBytes(value);
    // No headers is an empty array: its length, 0.
    return headerList.length === 0 ? encoder.writeVarInt(0) : encoder.writeVarIntArray(headerList.map(encodeHeader));
  };
}

/** Without Object.keys' array, for the common case of no headers at all. */
function hasAny(headers: object): boolean {
  for (const _ in headers) return true;
  return false;
}
