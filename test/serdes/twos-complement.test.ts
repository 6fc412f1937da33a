import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bigintToBytes, bytesToBigint, MAX_SMALL_INTEGER, SMALL_INTEGER_BYTES, writeSmallInteger } from '../../serdes/twos-complement.ts';

// Java's BigInteger.valueOf(n).toByteArray(), which Avro decimal readers use.
const JAVA_BYTES: Array<[bigint, string]> = [
  [0n, '00'],
  [1n, '01'],
  [127n, '7f'],
  [128n, '0080'],
  [255n, '00ff'],
  [256n, '0100'],
  [-1n, 'ff'],
  [-128n, '80'],
  [-129n, 'ff7f'],
  [-256n, 'ff00'],
  [-257n, 'feff'],
  [18446744073709551615n, '00ffffffffffffffff'],
  [-9223372036854775808n, '8000000000000000'],
];

test('bigintToBytes writes the shortest two-complement bytes, as Java does', () => {
  for (const [value, hex] of JAVA_BYTES) assert.equal(bigintToBytes(value).toString('hex'), hex, String(value));
});

test('bytesToBigint reads them back, including the empty array as 0', () => {
  for (const [value, hex] of JAVA_BYTES) assert.equal(bytesToBigint(Buffer.from(hex, 'hex')), value);
  assert.equal(bytesToBigint(Buffer.alloc(0)), 0n);
});

test('values around every byte boundary up to 2^216 round-trip', () => {
  for (let bits = 1n; bits <= 216n; bits++) {
    for (const value of [(1n << bits) - 1n, 1n << bits, -(1n << bits), -(1n << bits) - 1n]) {
      assert.equal(bytesToBigint(bigintToBytes(value)), value);
    }
  }
});

test('writeSmallInteger writes the bytes bigintToBytes writes, at every length up to its limit', () => {
  const into = Buffer.alloc(SMALL_INTEGER_BYTES);
  const values = [0, -0, MAX_SMALL_INTEGER, -MAX_SMALL_INTEGER - 1];
  for (let bits = 1; bits <= 47; bits++) values.push(2 ** bits - 1, 2 ** bits, -(2 ** bits), -(2 ** bits) - 1, Math.floor(2 ** bits / 3));
  for (const value of values.filter((v) => Math.abs(v) <= MAX_SMALL_INTEGER + 1 && v <= MAX_SMALL_INTEGER)) {
    assert.equal(into.subarray(0, writeSmallInteger(value, into)).toString('hex'), bigintToBytes(BigInt(value)).toString('hex'), String(value));
  }
});
