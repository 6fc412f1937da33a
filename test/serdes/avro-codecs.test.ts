import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { bigintLong } from '../../serdes/avro-codecs.ts';

/** Avro's zigzag varint of a long, from the specification (BigInt, no shortcut shared with the code under test). */
function zigzagVarint(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  for (; zigzag >= 0x80n; zigzag >>= 7n) bytes.push(Number(zigzag & 0x7fn) | 0x80);
  return [...bytes, Number(zigzag)];
}

// Each varint length's edges, the 28-bit and 2^53 switches of the fast paths, and the int64 extremes.
const edges = [0n, 1n, -1n, 63n, -64n, 64n, -65n, 8191n, 8192n, (1n << 27n) - 1n, -(1n << 27n), 1n << 27n, -(1n << 27n) - 1n, 1n << 31n, 1n << 35n];
const values = [...edges, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n];

test('bigintLong writes and reads the bytes of an Avro long, exactly over the whole int64 range', () => {
  const plainLong = avsc.Type.forSchema('long');
  for (const value of values) {
    const bytes = bigintLong.toBuffer(value);
    assert.deepEqual([...bytes], zigzagVarint(value), `write ${value}`);
    assert.equal(bigintLong.fromBuffer(bytes), value, `read ${value}`);
    // Where avsc's number long is exact, both read each other's bytes.
    if (value > -(2n ** 52n) && value < 2n ** 52n) assert.deepEqual(plainLong.toBuffer(Number(value)), bytes, `avsc long ${value}`);
  }
});

test('bigintLong refuses what is no int64, and a truncated long is an error, not a value', () => {
  // avsc's message for a bigint it refuses is its failure to print it; that it throws is what matters.
  assert.throws(() => bigintLong.toBuffer(2n ** 63n));
  assert.throws(() => bigintLong.toBuffer(1 as unknown as bigint), /invalid "long": 1/);
  const bytes = bigintLong.toBuffer(2n ** 62n);
  assert.throws(() => bigintLong.fromBuffer(bytes.subarray(0, bytes.length - 1)), /truncated/);
});
