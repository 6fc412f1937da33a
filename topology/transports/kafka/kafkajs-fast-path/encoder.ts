/**
 * Replaces methods of KafkaJS 2.2.4's src/protocol/encoder.js (the Encoder class behind every request) on
 * the class itself, so every module that holds the class gets them: the original wrote each varint through
 * an array and a Buffer of its own, and took every varlong through BigInt, small numbers included; a
 * producer writes several of each per record. The bytes are the same.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import type { Encoder, EncoderClass } from './kafkajs-internals.ts';

const MOST_SIGNIFICANT_BIT = 0x80;
const OTHER_BITS = 0x7f;
const UNSIGNED_INT32_MAX_NUMBER = 0xffffff80;

/** Numbers whose zigzag encoding fits 31 bits: as a varlong and as a varint they are the same bytes. */
function isSmallInt(value: unknown): value is number {
  return typeof value === 'number' && value >= -0x40000000 && value < 0x40000000 && Number.isInteger(value);
}

/** The bytes of an unsigned varint of the 32 bits of `value` (as writeUVarInt writes it). */
function sizeOfUVarInt(value: number): number {
  const bits = 32 - Math.clz32(value);
  return bits <= 7 ? 1 : Math.ceil(bits / 7);
}

export function patchEncoder(Encoder: EncoderClass): void {
  const sizeOfVarLong = Encoder.sizeOfVarLong;
  const writeVarLong = Encoder.prototype.writeVarLong;

  // A small number's varlong has the bytes of its varint, without BigInt garbage; others as before.
  Encoder.sizeOfVarLong = (value) => (isSmallInt(value) ? Encoder.sizeOfVarInt(value) : sizeOfVarLong.call(Encoder, value));
  Encoder.prototype.writeVarLong = function (this: Encoder, value: unknown) {
    return isSmallInt(value) ? this.writeVarInt(value) : writeVarLong.call(this, value);
  };

  // Straight into the buffer, asking room for its own bytes only: a record's Encoder is sized to the record,
  // and asking for 5 bytes for its last varint grew (and copied) almost every one.
  Encoder.prototype.writeUVarInt = function (this: Encoder, value: number) {
    this.ensureAvailable(sizeOfUVarInt(value));
    const buf = this.buf;
    let offset = this.offset;
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      buf[offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT;
      value >>>= 7;
    }
    buf[offset++] = value & OTHER_BITS;
    this.offset = offset;
    return this;
  };

  // Unsafe (pooled, not zero-filled) is safe: only buf[0, offset) is ever read or copied out.
  Encoder.prototype.ensureAvailable = function (this: Encoder, length: number) {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
}

/**
 * An Encoder of exactly `size` bytes from Buffer's pool: the constructor allocates a zero-filled buffer of
 * its own (512 bytes when not told), which for one per record was most of the producer's garbage. The
 * Encoder grows as usual if `size` was short.
 */
export function sizedEncoder(Encoder: EncoderClass, size: number): Encoder {
  // 0 asks the constructor for its smallest buffer (1 byte, on V8's heap), replaced at once.
  const encoder = new Encoder(0);
  encoder.buf = Buffer.allocUnsafe(size);
  return encoder;
}
