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

export function patchDecoder(Decoder: DecoderClass, Long: LongClass): void {
  const readVarLong = Decoder.prototype.readVarLong;
  Decoder.prototype.readVarLong = function (this: Decoder) {
    const buffer = this.buffer;
    let small = 0;
    for (let shift = 0, at = this.offset; shift < 28; shift += 7, at++) {
      // Past the end, buffer[at] is undefined: not < 0x80, so the original reads (and fails) as it did.
      const byte = buffer[at]!;
      small |= (byte & OTHER_BITS) << shift;
      if (byte < MOST_SIGNIFICANT_BIT) {
        this.offset = at + 1;
        return Long.fromNumber(Decoder.decodeZigZag(small));
      }
    }
    return readVarLong.call(this);
  };
}
