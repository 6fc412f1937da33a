import type { ColumnSchema, Value } from './change-event.ts';

/**
 * Whether two canonical values (change-event.ts) are the same value, as `cdc verify` decides it:
 * - an integer is one value whether a number or a bigint carries it;
 * - JSON text is compared by meaning (objects by their members in any order, numbers by value): a
 *   target such as PostgreSQL's jsonb keeps the value, not the text;
 * - bytes by their bytes; anything else strictly. `undefined` (a column the target lacks) equals nothing.
 */
export function sameValue(a: Value | undefined, b: Value | undefined, column: ColumnSchema | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a === null || b === null) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if ((typeof a === 'bigint' && typeof b === 'number') || (typeof a === 'number' && typeof b === 'bigint')) {
    return Number.isInteger(Number(a)) && Number.isInteger(Number(b)) && BigInt(a) === BigInt(b);
  }
  if (a === b) return true;
  if (column?.type === 'json' && typeof a === 'string' && typeof b === 'string') return sameJson(a, b);
  return false;
}

function sameJson(a: string, b: string): boolean {
  let x: unknown;
  let y: unknown;
  try {
    x = JSON.parse(a);
    y = JSON.parse(b);
  } catch {
    return false;
  }
  return sameJsonValue(x, y);
}

function sameJsonValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x) || Array.isArray(y)) {
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((item, i) => sameJsonValue(item, y[i]));
  }
  const xKeys = Object.keys(x);
  const yObject = y as Record<string, unknown>;
  return xKeys.length === Object.keys(yObject).length && xKeys.every((key) => Object.hasOwn(yObject, key) && sameJsonValue((x as Record<string, unknown>)[key], yObject[key]));
}
