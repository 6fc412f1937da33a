/**
 * avsc types that give Avro values their canonical JavaScript form (topology/change-event.ts)
 * while they are read or written, so no second pass over each row converts them.
 */
import avsc from 'avsc';
import type { Type } from 'avsc';
import type { Tap } from './avro-tap.ts';
import { bigintToBytes, bytesToBigint, SMALL_INTEGER_BYTES, writeSmallInteger } from './twos-complement.ts';

const MIN_INT64 = -(1n << 63n);
const MAX_INT64 = (1n << 63n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

// Longs whose zigzag value (twice the magnitude) is still an exact double: |value| < 2^52.
const NUMBER_ZIGZAG_LIMIT = 1n << 52n;

// A varint long is at most 10 bytes; views of each length over one scratch buffer, so a write allocates nothing.
const varintScratch = Buffer.alloc(10);
const varintViews = Array.from({ length: 11 }, (_, length) => varintScratch.subarray(0, length));


/** avsc's private write method of a type, which Type.encode calls with a Tap. */
type TypeWriter = { _write(tap: Tap, value: unknown): void };

/**
 * avsc's unwrapped union, with a write for `["null", X]` that goes straight to X's (the union otherwise
 * finds the branch again for every value, asking a logical type for its bytes to do so): same bytes, and the
 * same refusals, as X's own write refuses whatever is not an X (undefined included).
 */
export class NullableUnion extends avsc.types.UnwrappedUnionType {
  // No fields of its own: avsc freezes the union it constructs.

  /** Whether avsc builds `schema` as a NullableUnion: a union of null and one other type. */
  static fits(schema: unknown): schema is avsc.Schema {
    return Array.isArray(schema) && schema.length === 2 && schema[0] === 'null' && schema[1] !== 'null';
  }

  _write(tap: Tap, value: unknown): void {
    if (value === null) {
      tap.writeLong(0);
      return;
    }
    tap.writeLong(1);
    (this.types[1] as unknown as TypeWriter)._write(tap, value);
  }
}

/** A bigint's varint (zigzag) bytes, in a view of a scratch buffer that the next call overwrites. */
function varintOfBigint(value: bigint): Buffer {
  let length = 0;
  if (value > -NUMBER_ZIGZAG_LIMIT && value < NUMBER_ZIGZAG_LIMIT) {
    // In numbers (each BigInt operation allocates): the zigzag value is below 2^53, exact in a double.
    const number = Number(value);
    let zigzag = number >= 0 ? number * 2 : -number * 2 - 1;
    for (; zigzag >= 0x80; zigzag = Math.floor(zigzag / 0x80)) varintScratch[length++] = (zigzag % 0x80) | 0x80;
    varintScratch[length++] = zigzag;
    return varintViews[length]!;
  }
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  for (; zigzag >= 0x80n; zigzag >>= 7n) varintScratch[length++] = Number(zigzag & 0x7fn) | 0x80;
  varintScratch[length++] = Number(zigzag);
  return varintViews[length]!;
}

/** The long whose varint is `buf[start, end)`, in BigInt arithmetic (any length). */
function bigintOfVarint(buf: Buffer, start: number, end: number): bigint {
  let zigzag = 0n;
  for (let i = end - 1; i >= start; i--) zigzag = (zigzag << 7n) | BigInt(buf[i]! & 0x7f);
  zigzag = BigInt.asUintN(64, zigzag);
  return (zigzag >> 1n) ^ -(zigzag & 1n);
}

const frozenBigintLong: Type = avsc.types.LongType.__with(
  {
    fromBuffer: (varint: Buffer) => bigintOfVarint(varint, 0, varint.length),
    toBuffer: varintOfBigint,
    fromJSON: (value: number | string | bigint) => BigInt(value),
    // Only schema defaults (always 0 here) are exported through JSON, so a number is exact enough.
    toJSON: (value: bigint) => Number(value),
    isValid: (value: unknown) => typeof value === 'bigint' && value >= MIN_INT64 && value <= MAX_INT64,
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
  },
  true,
);

/**
 * The write of avsc's long types, without their copy of each value's bytes: below 2^52 the value is an
 * exact number, which Tap.writeLong writes as avsc's number long does (the same varint).
 */
function writeBigintLong(this: Type, tap: Tap, value: unknown): void {
  if (typeof value === 'bigint' && value > -NUMBER_ZIGZAG_LIMIT && value < NUMBER_ZIGZAG_LIMIT) {
    tap.writeLong(Number(value));
    return;
  }
  if (!this.isValid(value)) throw new Error(`invalid "long": ${String(value)}`);
  const bytes = varintOfBigint(value as bigint);
  const start = tap.pos;
  tap.pos += bytes.length;
  // Past the end only pos moves: avsc's encode then reports the bytes missing.
  if (tap.pos <= tap.buf.length) tap.buf.set(bytes, start);
}

/**
 * The read of avsc's long types, without their copy of each value's bytes (a Buffer per value): a varint of
 * at most 7 bytes holds a zigzag value below 2^49, which Tap.readLong reads exactly as a number.
 */
function readBigintLong(tap: Tap): bigint | undefined {
  const { buf } = tap;
  const start = tap.pos;
  let end = start;
  while (end < buf.length && buf[end]! & 0x80) end++;
  end++;
  // A truncated long: avsc's decode sees the cursor past the end and reports it, as for its own types.
  if (end > buf.length) {
    tap.pos = end;
    return undefined;
  }
  if (end - start <= 7) return BigInt(tap.readLong());
  tap.pos = end;
  return bigintOfVarint(buf, start, end);
}

/**
 * Avro `long` as a bigint: avsc's own long refuses values past 2^53 rather than round them. Reads and
 * writes go straight between the tap and the bigint, working in numbers where they are exact (reading
 * up to 7 varint bytes, writing below 2^52); `fromBuffer`/`toBuffer` above are what avsc's
 * AbstractLongType asks for, on the varint's own bytes (`noUnpack`), for its other uses. avsc freezes the type __with
 * makes, so its read and write are replaced on an object that inherits the rest.
 */
export const bigintLong: Type = Object.create(frozenBigintLong, { _read: { value: readBigintLong }, _write: { value: writeBigintLong } }) as Type;

/**
 * Avro `string` for a field that holds the same value record after record (a change event's source name,
 * database, table...): a read whose bytes are the previous read's returns the previous string, without
 * decoding and allocating it again. Each call makes a type with its own memory of one value; bytes and
 * writes are avsc's string's.
 */
export function repeatedString(): Type {
  let previous = '';
  let previousBytes = Buffer.alloc(64);
  let previousLength = -1;
  const read = (tap: Tap): string | undefined => {
    const length = tap.readLong();
    const { buf } = tap;
    const start = tap.pos;
    tap.pos += length;
    // As avsc's readString: a negative length or one past the end leaves the tap invalid, which decode reports.
    if (length < 0) {
      tap.pos = buf.length + 1;
      return '';
    }
    if (tap.pos > buf.length) return undefined;
    if (length === previousLength && buf.compare(previousBytes, 0, length, start, start + length) === 0) return previous;
    previous = buf.toString('utf8', start, start + length);
    if (length > previousBytes.length) previousBytes = Buffer.alloc(2 * length);
    buf.copy(previousBytes, 0, start, start + length);
    previousLength = length;
    return previous;
  };
  return Object.create(avsc.Type.forSchema('string'), { _read: { value: read } }) as Type;
}

/** Avro `decimal` (bytes) as the exact plain-notation string MySQL prints, with `scale` fraction digits. */
export class DecimalString extends avsc.types.LogicalType {
  readonly scale: number;

  constructor(schema: avsc.Schema, opts?: object) {
    super(schema, opts);
    this.scale = (schema as { scale?: number }).scale ?? 0;
  }

  // avsc asks for a nullable column's bytes twice per value (to pick the union branch, then to write).
  private lastValue: string | undefined;
  private lastBytes: Buffer | undefined;
  // Small values' bytes, in views of this codec's own scratch (as lastBytes, valid until its next value): avsc
  // copies them out as it writes.
  private readonly scratch = Buffer.alloc(SMALL_INTEGER_BYTES);
  private readonly scratchViews = Array.from({ length: SMALL_INTEGER_BYTES + 1 }, (_, length) => this.scratch.subarray(0, length));

  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== 'string') return undefined;
    if (value !== this.lastValue) {
      this.lastBytes = this.unscaledBytes(value);
      this.lastValue = value;
    }
    return this.lastBytes;
  }

  /** The unscaled value's bytes of a plain decimal string; undefined for anything else. */
  private unscaledBytes(value: string): Buffer | undefined {
    // One pass over the characters: the digits as a number (exact up to 14 of them), where the point is.
    const negative = value.charCodeAt(0) === 45; /* - */
    let digits = 0;
    let fractionDigits = -1;
    let unscaled = 0;
    for (let i = negative ? 1 : 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code === 46 /* . */ && fractionDigits < 0 && digits > 0 && i < value.length - 1) {
        fractionDigits = 0;
        continue;
      }
      if (code < 48 || code > 57) return undefined;
      digits++;
      if (fractionDigits >= 0) fractionDigits++;
      unscaled = unscaled * 10 + (code - 48);
    }
    if (digits === 0) return undefined;
    const fraction = Math.max(fractionDigits, 0);
    // More fraction digits than the column's scale would be silently cut: refuse instead.
    if (fraction > this.scale) return undefined;
    // 14 digits stay below 2^47: most decimals are written in numbers.
    if (digits + this.scale - fraction <= 14) return this.scratchViews[writeSmallInteger((negative ? -unscaled : unscaled) * 10 ** (this.scale - fraction), this.scratch)];
    return bigintToBytes(BigInt(value.replace('.', '')) * 10n ** BigInt(this.scale - fraction));
  }

  protected override _fromValue(bytes: Buffer): string {
    const unscaled = bytesToBigint(bytes);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString().padStart(this.scale + 1, '0');
    const sign = negative ? '-' : '';
    if (this.scale === 0) return `${sign}${digits}`;
    const point = digits.length - this.scale;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    // A different scale would read the same unscaled bytes as another number (Java readers too).
    if (writer instanceof DecimalString && writer.scale === this.scale) return (value) => value;
    // BIGINT UNSIGNED widened to a DECIMAL(p,0).
    if (writer instanceof UnsignedBigint && this.scale === 0) return (value) => String(value);
    return undefined;
  }
}

/** BIGINT UNSIGNED as Avro `decimal(20,0)` (Debezium's precise mode), read back as a bigint. */
export class UnsignedBigint extends avsc.types.LogicalType {
  protected override _toValue(value: unknown): Buffer | undefined {
    return typeof value === 'bigint' && value >= 0n && value <= MAX_UINT64 ? bigintToBytes(value) : undefined;
  }

  protected override _fromValue(bytes: Buffer): bigint {
    return bytesToBigint(bytes);
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    return writer instanceof UnsignedBigint ? (value) => value : undefined;
  }
}
