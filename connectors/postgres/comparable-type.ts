import { integerRange, type ComparableType } from '../sql/column-type.ts';

const INTEGER_BYTES: Record<string, 2 | 4 | 8> = { smallint: 2, int2: 2, integer: 4, int: 4, int4: 4, bigint: 8, int8: 8 };
const FLOAT_BITS: Record<string, 32 | 64> = { real: 32, float4: 32, 'double precision': 64, float8: 64 };

/**
 * A PostgreSQL column type (`format_type`'s spelling, or the sink's own from postgresType) as the
 * widening rule compares it. Unbounded types (text, bytea) have no length limit.
 */
export function postgresComparableType(sqlType: string): ComparableType {
  const text = sqlType.trim().toLowerCase().replace(/\s+/g, ' ');
  const match = /^([a-z][a-z0-9 ]*?)\s*(?:\(([^)]*)\))?((?: with(?:out)? time zone)?)$/.exec(text);
  if (!match) return { kind: 'other', name: text };
  const [, name = '', args, zone = ''] = match;
  const numbers = args?.split(',').map((arg) => Number(arg.trim()));
  if (INTEGER_BYTES[name] !== undefined) return integerRange(INTEGER_BYTES[name], false);
  if (FLOAT_BITS[name] !== undefined) return { kind: 'float', bits: FLOAT_BITS[name] };
  switch (name) {
    case 'numeric':
    case 'decimal':
      // A numeric without precision holds any number: no DECIMAL(p,s) compares with it but itself.
      return numbers ? { kind: 'decimal', precision: numbers[0]!, scale: numbers[1] ?? 0 } : { kind: 'other', name };
    case 'character varying':
    case 'varchar':
      return numbers ? { kind: 'text', length: numbers[0]!, form: 'variable' } : { kind: 'text', length: Number.POSITIVE_INFINITY, form: 'lob' };
    case 'character':
    case 'char':
    case 'bpchar':
      return { kind: 'text', length: numbers?.[0] ?? 1, form: 'fixed' };
    case 'text':
      return { kind: 'text', length: Number.POSITIVE_INFINITY, form: 'lob' };
    case 'bytea':
      return { kind: 'bytes', length: Number.POSITIVE_INFINITY, form: 'lob' };
    case 'timestamp':
    case 'timestamptz': {
      // timestamptz(p) and timestamp(p) with time zone are one type; timestamp without a precision has 6 digits.
      const withZone = name === 'timestamptz' || zone === ' with time zone';
      return { kind: 'other', name: `${withZone ? 'timestamptz' : 'timestamp'}(${numbers?.[0] ?? 6})` };
    }
  }
  return { kind: 'other', name: args === undefined ? name : `${name}(${args.replace(/\s/g, '')})` };
}
