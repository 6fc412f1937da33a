/**
 * Replaces Decoder.prototype.readVarLong of KafkaJS 2.2.4's src/protocol/decoder.js (the Decoder class
 * behind every response) on the class itself: the original built a Long (BigInt) per byte, and a consumer
 * reads a varlong (the timestamp delta) per record. Values up to 4 bytes (28 bits), which record
 * timestamp deltas all but always are, are read in a number; longer ones as before.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import type { Decoder, DecoderClass, LongClass } from './kafkajs-internals.ts';

const MOST_SIGNIFICANT_BIT = 0x80;
const OTHER_BITS = 0x7f;

/**
 * The varlong at the decoder's offset as a number when it takes at most 4 bytes (28 bits), the offset then
 * moved past it; otherwise undefined, the offset left where it was.
 */
export function readSmallVarLong(decoder: Decoder, zigzag: (value: number) => number): number | undefined {
  const buffer = decoder.buffer;
  let small = 0;
  for (let shift = 0, at = decoder.offset; shift < 28; shift += 7, at++) {
    // Past the end, buffer[at] is undefined: not < 0x80, so the caller reads (and fails) as the original does.
    const byte = buffer[at]!;
    small |= (byte & OTHER_BITS) << shift;
    if (byte < MOST_SIGNIFICANT_BIT) {
      decoder.offset = at + 1;
      return zigzag(small);
    }
  }
  return undefined;
}

export function patchDecoder(Decoder: DecoderClass, Long: LongClass): void {
  const readVarLong = Decoder.prototype.readVarLong;
  Decoder.prototype.readVarLong = function (this: Decoder) {
    const small = readSmallVarLong(this, Decoder.decodeZigZag);
    return small === undefined ? readVarLong.call(this) : Long.fromNumber(small);
  };
}
