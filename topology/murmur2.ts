/**
 * Kafka's murmur2 and default partitioner, bit for bit as the Java client computes them
 * (org.apache.kafka.common.utils.Utils.murmur2 / toPositive), so Java consumers and producers agree on
 * which partition a key lives in. kafkajs ships the same function (producer/partitioners/default/murmur2.js)
 * but builds a Long object per 4 input bytes; this one uses 32-bit Math.imul and allocates nothing.
 * test/topology/murmur2.test.ts checks it against Java's published vectors and against kafkajs.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of the first `length` bytes of `data` (all of them by default). */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * `Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions`, the Java default partitioner for keyed records,
 * for the key in the first `length` bytes of `key` (all of them by default).
 */
export function partitionForKey(key: Uint8Array, partitions: number, length = key.length): number {
  return (murmur2(key, length) & 0x7fffffff) % partitions;
}
