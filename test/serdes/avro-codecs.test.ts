import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { bigintLong, DecimalString } from '../../serdes/avro-codecs.ts';
import { bigintToBytes } from '../../serdes/twos-complement.ts';

/** Avro's zigzag varint of a long, from the specification (BigInt, no shortcut shared with the code under test). */
function zigzagVarint(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  for (; zigzag >= 0x80n; zigzag >>= 7n) bytes.push(Number(zigzag & 0x7fn) | 0x80);
  return [...bytes, Number(zigzag)];
}

// Each varint length's edges, the 28-bit and 2^52 switches of the fast paths, 2^53, and the int64 extremes.
const edges = [0n, 1n, -1n, 63n, -64n, 64n, -65n, 8191n, 8192n, (1n << 27n) - 1n, -(1n << 27n), 1n << 27n, -(1n << 27n) - 1n, 1n << 31n, 1n << 35n];
const values = [...edges, 2n ** 52n - 1n, -(2n ** 52n) + 1n, 2n ** 52n, -(2n ** 52n), 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n];

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

test('DecimalString writes the unscaled two-complement bytes of plain decimals, short and long, and refuses anything else', () => {
  // Nullable, as most columns are: avsc asks the logical type for a value's bytes to pick the branch, then to write.
  const type = avsc.Type.forSchema(['null', { type: 'bytes', logicalType: 'decimal', precision: 40, scale: 3 }], { logicalTypes: { decimal: DecimalString }, wrapUnions: 'auto' });
  const cases: Array<[string, bigint]> = [
    ['0', 0n], ['-0', 0n], ['1.5', 1500n], ['-1.5', -1500n], ['007.250', 7250n], ['99999999999.999', 99999999999999n],
    ['-99999999999.999', -99999999999999n], ['100000000000', 100000000000000n], ['1234567890123456789012345678901234567.891', 1234567890123456789012345678901234567891n],
  ];
  for (const [text, unscaled] of cases) {
    const bytes = type.toBuffer(text);
    // Union branch 1, then the bytes' length (zigzag) and the bytes.
    const expected = bigintToBytes(unscaled);
    assert.deepEqual([...bytes], [2, expected.length * 2, ...expected], text);
    assert.equal(type.fromBuffer(bytes), (unscaled < 0n ? '-' : '') + (unscaled < 0n ? -unscaled : unscaled).toString().padStart(4, '0').replace(/(\d{3})$/, '.$1'), text);
  }
  for (const bad of ['', '-', '1.', '.5', '1.2.3', '+1', '1e5', ' 1', '1.2345', '12a', '--1']) assert.equal(type.isValid(bad), false, JSON.stringify(bad));
  // The same value twice, then another: the second answer is not the first's.
  assert.deepEqual([...type.toBuffer('2.000')].slice(2), [...bigintToBytes(2000n)]);
  assert.deepEqual([...type.toBuffer('2.001')].slice(2), [...bigintToBytes(2001n)]);
});
