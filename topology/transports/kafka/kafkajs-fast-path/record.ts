/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/record/v0/index.js, which encodes one record of a
 * produce request: the original gave every record a 512-byte zero-filled Encoder (most of the producer's
 * garbage) and built arrays for its headers even when it had none. This one sizes the Encoder to the record
 * and writes no headers without the general case's arrays; a produce request writes its records with the
 * same code straight into their batch (recordCodec). The bytes are the same:
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

/**
 * Writes records into any Encoder: `bodySize` first (an Encoder or a batch is sized with it), then `write`
 * with that size, so a produce request writes its records straight into their batch.
 */
export interface RecordCodec {
  bodySize(key: unknown, value: unknown, headers: Record<string, unknown> | undefined, timestampDelta: number, offsetDelta: number): number;
  write(encoder: Encoder, key: unknown, value: unknown, headers: Record<string, unknown> | undefined, timestampDelta: number, offsetDelta: number, bodySize: number): Encoder;
}

/** The bytes of a record whose body is `bodySize` bytes: its length varint, then the body. */
export function recordSize(Encoder: EncoderClass, bodySize: number): number {
  return Encoder.sizeOfVarInt(bodySize) + bodySize;
}

/** Records over KafkaJS's Encoder and header encoder. */
export function recordCodec(kafkaRequire: KafkaRequire): RecordCodec {
  const Encoder = kafkaRequire('./src/protocol/encoder') as EncoderClass;
  const encodeHeader = kafkaRequire('./src/protocol/recordBatch/header/v0') as (header: Header) => Encoder;

  const headerListOf = (headers: Record<string, unknown> | undefined): Header[] =>
    headers !== undefined && hasAny(headers)
      ? Object.keys(headers).flatMap((headerKey) => {
          const headerValue = headers[headerKey];
          return Array.isArray(headerValue)
            ? headerValue.map((each: Header['value']) => ({ key: headerKey, value: each }))
            : [{ key: headerKey, value: headerValue as Header['value'] }];
        })
      : NO_HEADERS;

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

  return {
    bodySize: (key, value, headers, timestampDelta, offsetDelta) =>
      1 + // attributes, always one byte
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(key) +
      Encoder.sizeOfVarIntBytes(value) +
      (headers === undefined || !hasAny(headers) ? 1 : sizeOfHeaders(headerListOf(headers))),

    write: (encoder, key, value, headers, timestampDelta, offsetDelta, bodySize) => {
      encoder
        .writeVarInt(bodySize)
        .writeInt8(0) // no record attributes are used
        .writeVarLong(timestampDelta)
        .writeVarInt(offsetDelta)
        .writeVarIntBytes(key)
        .writeVarIntBytes(value);
      const headerList = headerListOf(headers);
      // No headers is an empty array: its length, 0.
      return headerList.length === 0 ? encoder.writeVarInt(0) : encoder.writeVarIntArray(headerList.map(encodeHeader));
    },
  };
}

/** The module's export: one record in an Encoder of its own, sized to it. */
export function recordEncoder(kafkaRequire: KafkaRequire): (record: RecordFields) => Encoder {
  const Encoder = kafkaRequire('./src/protocol/encoder') as EncoderClass;
  const codec = recordCodec(kafkaRequire);
  return ({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }) => {
    const bodySize = codec.bodySize(key, value, headers, timestampDelta, offsetDelta);
    return codec.write(sizedEncoder(Encoder, recordSize(Encoder, bodySize)), key, value, headers, timestampDelta, offsetDelta, bodySize);
  };
}

/** Without Object.keys' array, for the common case of no headers at all. */
function hasAny(headers: object): boolean {
  for (const _ in headers) return true;
  return false;
}
