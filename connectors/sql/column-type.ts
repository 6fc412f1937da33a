/**
 * A SQL column type as far as widening is concerned: what values it holds, whatever the target spells
 * it as. Each dialect parses its own type text (information_schema's, and the one it would create for a
 * source column) into this, so the rule below is written once for every SQL target.
 */
export type ComparableType =
  /** Integers from `min` to `max`: signed and unsigned types of every width compare by range. */
  | { kind: 'integer'; min: bigint; max: bigint }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'float'; bits: 32 | 64 }
  /** Character strings of up to `length` characters (the TEXT types: the characters they hold at 4 bytes each). */
  | { kind: 'text'; length: number; form: StringForm }
  /** Byte strings of up to `length` bytes. */
  | { kind: 'bytes'; length: number; form: StringForm }
  /** ENUM or SET members, in declaration order. */
  | { kind: 'members'; set: boolean; values: readonly string[] }
  /** Any other type: only the same name is the same type. */
  | { kind: 'other'; name: string };

/** `fixed`: CHAR/BINARY (padded); `variable`: VARCHAR/VARBINARY; `lob`: the TEXT and BLOB types, PostgreSQL's text and bytea. */
export type StringForm = 'fixed' | 'variable' | 'lob';

/** What a target column of type `current` needs to hold the values of `wanted`. */
export type TypeChange =
  | { change: 'none' }
  /** `wanted` holds every value `current` holds, and more: the column can be altered in place. */
  | { change: 'widen' }
  /** Altering the column would lose or change values it holds: the sink never does it. */
  | { change: 'refuse'; why: string };

const NONE: TypeChange = { change: 'none' };
const WIDEN: TypeChange = { change: 'widen' };

/**
 * The widening rule. Widening: a larger integer range (TINYINT → SMALLINT → MEDIUMINT → INT → BIGINT,
 * signed → unsigned only where the new type also holds the negatives, as in PostgreSQL where INT
 * UNSIGNED is a bigint), an integer into a DECIMAL with room for its digits, more DECIMAL integer
 * digits or scale (neither fewer), FLOAT → DOUBLE, longer CHAR/VARCHAR/TEXT and BINARY/VARBINARY/BLOB
 * (CHAR → VARCHAR → TEXT too, never back), ENUM/SET members added at the end. Everything else is refused.
 */
export function compareTypes(current: ComparableType, wanted: ComparableType): TypeChange {
  switch (current.kind) {
    case 'integer':
      if (wanted.kind === 'integer') return byCover(wanted.min <= current.min && wanted.max >= current.max, current.min <= wanted.min && current.max >= wanted.max, 'narrower integer range');
      if (wanted.kind === 'decimal') return wanted.precision - wanted.scale >= digits(current) ? WIDEN : refuse('too few DECIMAL digits for the integers');
      return incompatible();
    case 'decimal':
      if (wanted.kind !== 'decimal') return incompatible();
      return byCover(
        wanted.precision - wanted.scale >= current.precision - current.scale && wanted.scale >= current.scale,
        wanted.precision - wanted.scale <= current.precision - current.scale && wanted.scale <= current.scale,
        'fewer DECIMAL integer digits or scale',
      );
    case 'float':
      if (wanted.kind !== 'float') return incompatible();
      return byCover(wanted.bits >= current.bits, wanted.bits <= current.bits, 'FLOAT holds fewer digits than DOUBLE');
    case 'text':
    case 'bytes':
      if (wanted.kind !== current.kind) return incompatible();
      // A fixed type pads the values it stores: a variable one turned fixed would change them.
      if (wanted.form === 'fixed' && current.form !== 'fixed') return refuse('variable to fixed length');
      if (current.form === 'lob' && wanted.form !== 'lob') return refuse('a TEXT/BLOB type to a length-limited one');
      if (current.form !== wanted.form) return wanted.length >= current.length ? WIDEN : refuse('shorter');
      return byCover(wanted.length >= current.length, wanted.length <= current.length, 'shorter');
    case 'members': {
      if (wanted.kind !== 'members' || wanted.set !== current.set) return incompatible();
      const prefix = current.values.every((value, i) => wanted.values[i] === value);
      if (prefix) return wanted.values.length === current.values.length ? NONE : WIDEN;
      // ENUM and SET values are stored as member numbers: only members added at the end keep their meaning.
      return refuse('members removed, renamed or reordered (only members added at the end widen)');
    }
    case 'other':
      return wanted.kind === 'other' && wanted.name === current.name ? NONE : incompatible();
  }
}

/** Same when each covers the other, widen when only `wanted` covers `current`, refused otherwise. */
function byCover(wantedCovers: boolean, currentCovers: boolean, narrower: string): TypeChange {
  if (wantedCovers) return currentCovers ? NONE : WIDEN;
  return refuse(narrower);
}

function refuse(why: string): TypeChange {
  return { change: 'refuse', why };
}

function incompatible(): TypeChange {
  return refuse('another type');
}

/** Decimal digits of the largest magnitude an integer range holds. */
function digits(range: { min: bigint; max: bigint }): number {
  const magnitude = -range.min > range.max ? -range.min : range.max;
  return magnitude.toString().length;
}

/** The integer ranges of MySQL's integer types, signed and unsigned (PostgreSQL's are the signed ones of the same width). */
export function integerRange(bytes: 1 | 2 | 3 | 4 | 8, unsigned: boolean): { kind: 'integer'; min: bigint; max: bigint } {
  const bits = BigInt(bytes * 8);
  return unsigned ? { kind: 'integer', min: 0n, max: 2n ** bits - 1n } : { kind: 'integer', min: -(2n ** (bits - 1n)), max: 2n ** (bits - 1n) - 1n };
}
