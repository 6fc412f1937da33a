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

/**
 * Where two JSON texts that differ differ: the top-level members (`['price', 'tags']`) when both are
 * objects, else undefined (the value as a whole). A MongoDB document's row is one such text.
 */
export function differingMembers(a: string, b: string): string[] | undefined {
  const [x, y] = [parseJson(a), parseJson(b)];
  if (!isObject(x) || !isObject(y)) return undefined;
  const members = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  return members.filter((member) => !(Object.hasOwn(x, member) && Object.hasOwn(y, member) && sameJsonValue(x[member], y[member])));
}

function sameJson(a: string, b: string): boolean {
  const [x, y] = [parseJson(a), parseJson(b)];
  return x !== INVALID && y !== INVALID && sameJsonValue(x, y);
}

const INVALID = Symbol('invalid JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
