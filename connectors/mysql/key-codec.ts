import type { Row, Value } from '../../topology/change-event.ts';

/**
 * `TableSnapshotProgress.lastKey`: canonical JSON of a row's key values in key-column order, exact for
 * every key type: bigint as {"bigint":"…"}, Buffer as {"base64":"…"}, everything else as plain JSON.
 */
export function encodeKey(row: Row, keyColumns: readonly string[]): string {
  return JSON.stringify(keyColumns.map((column) => encodeValue(row[column] ?? null)));
}

export function decodeKey(lastKey: string): Value[] {
  const values = JSON.parse(lastKey) as unknown;
  if (!Array.isArray(values)) throw new Error(`snapshot progress key ${lastKey} is not a JSON array`);
  return values.map(decodeValue);
}

function encodeValue(value: Value): unknown {
  if (typeof value === 'bigint') return { bigint: value.toString() };
  if (Buffer.isBuffer(value)) return { base64: value.toString('base64') };
  return value;
}

function decodeValue(value: unknown): Value {
  if (value !== null && typeof value === 'object') {
    if ('bigint' in value && typeof value.bigint === 'string') return BigInt(value.bigint);
    if ('base64' in value && typeof value.base64 === 'string') return Buffer.from(value.base64, 'base64');
    throw new Error(`snapshot progress key value ${JSON.stringify(value)} is neither a bigint nor bytes`);
  }
  return value as Value;
}
