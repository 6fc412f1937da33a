/**
 * Replaces KafkaJS 2.2.4's src/protocol/recordBatch/crc32C/crc32C.js, the CRC-32C of every record batch
 * produced: the original took one byte per step through one table; this takes eight per step through
 * eight tables (slicing-by-8), about three times the speed, for the same checksum.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */

/** T[n]: the CRC of byte n, over the reflected Castagnoli polynomial (KafkaJS ships this table as literals). */
const T = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let crc = n;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  T[n] = crc;
}

/** T8[k]: T advanced by k zero bytes, so eight bytes fold into the CRC at once. */
const T8: Int32Array[] = [T];
for (let k = 1; k < 8; k++) {
  const previous = T8[k - 1]!;
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) table[n] = T[previous[n]! & 0xff]! ^ (previous[n]! >>> 8);
  T8.push(table);
}
const [T0, T1, T2, T3, T4, T5, T6, T7] = T8 as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];

/** The unsigned CRC-32C of `buffer`, as the original module exports it. */
export function crc32C(buffer: Uint8Array): number {
  let crc = 0 ^ -1;
  const length = buffer.length;
  const whole = length - (length & 7);
  let i = 0;
  for (; i < whole; i += 8) {
    const low = crc ^ (buffer[i]! | (buffer[i + 1]! << 8) | (buffer[i + 2]! << 16) | (buffer[i + 3]! << 24));
    crc =
      T7[low & 0xff]! ^
      T6[(low >>> 8) & 0xff]! ^
      T5[(low >>> 16) & 0xff]! ^
      T4[low >>> 24]! ^
      T3[buffer[i + 4]!]! ^
      T2[buffer[i + 5]!]! ^
      T1[buffer[i + 6]!]! ^
      T0[buffer[i + 7]!]!;
  }
  for (; i < length; i++) crc = T[(crc ^ buffer[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
