import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey } from '../../topology/murmur2.ts';

// kafkajs's own Java-compatible murmur2, as the reference for random inputs.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

test('murmur2 gives the values of the Java client (Kafka UtilsTest vectors)', () => {
  const javaVectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, expected] of javaVectors) assert.equal(murmur2(Buffer.from(key)), expected, key);
});

test('murmur2 agrees with kafkajs on random keys of every length remainder', () => {
  for (let length = 0; length < 300; length++) {
    const key = randomBytes(length);
    assert.equal(murmur2(key), kafkajsMurmur2(key), key.toString('hex'));
  }
});

test('partitionForKey is toPositive(murmur2) % n', () => {
  // murmur2('foobar') is negative: toPositive masks the sign bit rather than negating.
  assert.equal(partitionForKey(Buffer.from('foobar'), 8), (-790332482 & 0x7fffffff) % 8);
  assert.equal(partitionForKey(Buffer.from('abc'), 8), 479470107 % 8);
});

test('murmur2 and partitionForKey of a prefix are those of the prefix\'s own bytes', () => {
  const bytes = randomBytes(64);
  for (let length = 0; length <= 64; length++) {
    assert.equal(murmur2(bytes, length), murmur2(bytes.subarray(0, length)));
    assert.equal(partitionForKey(bytes, 7, length), partitionForKey(bytes.subarray(0, length), 7));
  }
});
