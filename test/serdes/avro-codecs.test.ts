import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { bigintLong, DecimalString, NullableUnion, repeatedString } from '../../serdes/avro-codecs.ts';
import { tableEventSchemas, type RecordSchema } from '../../serdes/avro-schema.ts';
import { fieldAvroType } from '../../serdes/change-event-codec.ts';
import { bigintToBytes } from '../../serdes/twos-complement.ts';
import { allTypesRow, allTypesTable } from './all-types.ts';

/** Avro's zigzag varint of a long, from the specification (BigInt, no shortcut shared with the code under test). */
function zigzagVarint(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  for (; zigzag >= 0x80n; zigzag >>= 7n) bytes.push(Number(zigzag & 0x7fn) | 0x80);
  return [...bytes, Number(zigzag)];
}

// Each varint length's edges, the 28-bit, 7-byte and 2^52 switches of the fast paths, 2^53, and the int64 extremes.
const edges = [0n, 1n, -1n, 63n, -64n, 64n, -65n, 8191n, 8192n, (1n << 27n) - 1n, -(1n << 27n), 1n << 27n, -(1n << 27n) - 1n, 1n << 31n, 1n << 35n];
const sevenBytes = [(1n << 48n) - 1n, -(1n << 48n), 1n << 48n, -(1n << 48n) - 1n];
const values = [...edges, ...sevenBytes, 2n ** 52n - 1n, -(2n ** 52n) + 1n, 2n ** 52n, -(2n ** 52n), 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, -(2n ** 53n), 2n ** 53n + 1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n];

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

test('bigintLong reads each long of an array from where the one before it ended', () => {
  const array = avsc.Type.forSchema({ type: 'array', items: 'long' }, { registry: { long: bigintLong } });
  const bytes = array.toBuffer(values);
  assert.deepEqual(array.fromBuffer(bytes), values);
  assert.throws(() => array.fromBuffer(bytes.subarray(0, bytes.length - 2)), /truncated/);
});

test('repeatedString reads what a string reads, value after value, repeated or not, of any length and script', () => {
  const strings = avsc.Type.forSchema({ type: 'array', items: repeatedString() });
  const values = ['shop', 'shop', 'shop', '', '', 'shops', 'shoq', 'ü日本🙂', 'ü日本🙂', 'x'.repeat(200), 'x'.repeat(200), 'x'.repeat(199) + 'y', 'shop'];
  const bytes = strings.toBuffer(values);
  assert.deepEqual(bytes, avsc.Type.forSchema({ type: 'array', items: 'string' }).toBuffer(values), 'the bytes of a string');
  assert.deepEqual(strings.fromBuffer(bytes), values);
  assert.deepEqual(strings.fromBuffer(bytes), values, 'again, the first value now being a repeat of the last');
  assert.throws(() => strings.fromBuffer(bytes.subarray(0, bytes.length - 3)), /truncated/);
});

test('bigintLong refuses what is no int64, and a truncated long is an error, not a value', () => {
  // avsc's message for a bigint it refuses is its failure to print it; that it throws is what matters.
  assert.throws(() => bigintLong.toBuffer(2n ** 63n));
  assert.throws(() => bigintLong.toBuffer(1 as unknown as bigint), /invalid "long": 1/);
  const bytes = bigintLong.toBuffer(2n ** 62n);
  assert.throws(() => bigintLong.fromBuffer(bytes.subarray(0, bytes.length - 1)), /truncated/);
});

test('bigintLong written where it does not fit says how many bytes are missing, as avsc does, and writes nothing past the end', () => {
  for (const [value, length] of [[-(2n ** 40n), 6], [2n ** 62n, 10]] as const) {
    const buf = Buffer.alloc(4, 0xee);
    assert.equal(bigintLong.encode(value, buf, 1), 4 - (1 + length), String(value));
    if (value > 0n) assert.deepEqual([...buf], [0xee, 0xee, 0xee, 0xee], 'the bigint path writes nothing');
  }
});

/** The value of `field` of the table's Value record, and bad values for it. */
const oddValues: unknown[] = [undefined, 'x', '1.5', 1, 1.5, -1, 2 ** 40, 1n, 2n ** 70n, Buffer.from('a'), true, {}, []];

test("a nullable column is written by NullableUnion with the bytes of avsc's own union, for every MySQL type and for the whole row, and refuses what avsc refuses", () => {
  const table = allTypesTable('shop', 'all');
  const envelope = tableEventSchemas('srv', table).value;
  const valueRecord = (envelope.fields[0]!.type as [string, RecordSchema])[1];
  const rows = [allTypesRow(0), allTypesRow(1)];
  let nullable = 0;
  for (const field of valueRecord.fields) {
    const type = fieldAvroType(field);
    if (!(type instanceof NullableUnion)) continue;
    nullable++;
    const avscUnion = avsc.Type.forSchema(['null', type.types[1]!] as unknown as avsc.Schema, { wrapUnions: 'auto' });
    assert.notEqual(Object.getPrototypeOf(avscUnion), NullableUnion.prototype);
    const column = (field['rxcdc.column'] as { name: string }).name;
    for (const value of [...rows.map((row) => row[column]), null, ...oddValues]) {
      const what = `${field.name} = ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`;
      const expected = attempt(() => avscUnion.toBuffer(value));
      const actual = attempt(() => type.toBuffer(value));
      assert.equal(actual instanceof Error, expected instanceof Error, what);
      if (!(expected instanceof Error)) assert.deepEqual(actual, expected, what);
    }
  }
  assert.ok(nullable > 20, `${nullable} nullable columns`);
  // The row's union (before and after) too, with every column's own writer inside.
  const rowUnion = fieldAvroType({ name: 'after', type: ['null', valueRecord] });
  assert.ok(rowUnion instanceof NullableUnion);
  const avscRowUnion = avsc.Type.forSchema(['null', rowUnion.types[1]!] as unknown as avsc.Schema, { wrapUnions: 'auto' });
  for (const row of rows) {
    const record = Object.fromEntries(valueRecord.fields.map((field) => [field.name, row[(field['rxcdc.column'] as { name: string }).name]]));
    assert.deepEqual(rowUnion.toBuffer(record), avscRowUnion.toBuffer(record));
  }
});

function attempt(write: () => Buffer): Buffer | Error {
  try {
    return write();
  } catch (error) {
    return error as Error;
  }
}

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
