/**
 * The parts of KafkaJS 2.2.4's internal modules (its src/ folder, which has no types) that the fast path
 * uses, typed as narrowly as it uses them.
 */

/** src/utils/long.js: a 64-bit integer over a BigInt. */
export interface Long {
  value: bigint;
}

export interface LongClass {
  fromInt(value: number): Long;
  fromNumber(value: number): Long;
  fromValue(value: unknown): Long;
}

/** src/protocol/encoder.js. `buf` and `offset` are its fields: bytes [0, offset) of buf are what it wrote. */
export interface Encoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
  ensureAvailable(length: number): void;
  writeInt8(value: number): Encoder;
  writeInt16(value: number): Encoder;
  writeInt32(value: number): Encoder;
  writeUInt32(value: number): Encoder;
  writeInt64(value: unknown): Encoder;
  writeString(value: string | null): Encoder;
  writeBytes(value: Buffer): Encoder;
  writeBuffer(value: Buffer): Encoder;
  writeEncoder(value: Encoder): Encoder;
  writeArray(array: unknown[], type?: string): Encoder;
  writeEncoderArray(array: Encoder[]): Encoder;
  writeVarInt(value: number): Encoder;
  writeUVarInt(value: number): Encoder;
  writeVarLong(value: unknown): Encoder;
  writeVarIntBytes(value: unknown): Encoder;
  writeVarIntArray(array: Encoder[], type?: string): Encoder;
}

export interface EncoderClass {
  new (initialSize?: number): Encoder;
  prototype: Encoder;
  sizeOfVarInt(value: number): number;
  sizeOfVarLong(value: unknown): number;
  sizeOfVarIntBytes(value: unknown): number;
  nextPowerOfTwo(value: number): number;
}

/** src/protocol/decoder.js. */
export interface Decoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): Long;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (decoder: Decoder) => T): T[];
}

export interface DecoderClass {
  prototype: Decoder;
  decodeZigZag(value: number): number;
}

/** A message as KafkaJS's producer passes it down to the produce request. */
export interface Message {
  key?: unknown;
  value: unknown;
  headers?: Record<string, unknown>;
  partition?: number;
  timestamp?: string | number;
}

export type KafkaRequire = (id: string) => unknown;
