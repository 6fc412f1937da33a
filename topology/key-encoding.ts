import type { RowIdentity, Value } from './change-event.ts';

/**
 * The canonical bytes of a row's identity: table + primary key. They are the record key of the
 * repartition topic and the input of murmur2, so they must never change between versions or processes:
 *
 *   u16 BE length, `db.table` in UTF-8,
 *   then for each key column, in the key's column order (connectors build `key` in primary-key order):
 *     one tag byte, u32 BE payload length, payload:
 *       'n' null (empty)   'i' integer, number or bigint alike (decimal ASCII)   'f' other number (JS shortest form)
 *       's' string (UTF-8) 'b' Buffer (raw bytes)   't' true / 'F' false (empty)
 *
 * Integers encode the same whether they arrive as number or bigint, so a key compares by value.
 * Column names are left out: the table fixes them, and leaving them out keeps keys short.
 */
export function encodeRowKey(event: RowIdentity): Buffer {
  const table = `${event.source.db}.${event.source.table}`;
  const parts: Array<[number, Buffer | string]> = [];
  let size = 2 + Buffer.byteLength(table);
  for (const column in event.key) {
    const part = valuePart(event.key[column]!);
    parts.push(part);
    size += 5 + (typeof part[1] === 'string' ? Buffer.byteLength(part[1]) : part[1].length);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt16BE(Buffer.byteLength(table), 0);
  at += out.write(table, at);
  for (const [tag, payload] of parts) {
    out[at] = tag;
    const length = typeof payload === 'string' ? out.write(payload, at + 5) : payload.copy(out, at + 5);
    out.writeUInt32BE(length, at + 1);
    at += 5 + length;
  }
  return out;
}

const NO_BYTES = Buffer.alloc(0);
const TAG = { null: 0x6e, int: 0x69, float: 0x66, string: 0x73, bytes: 0x62, true: 0x74, false: 0x46 } as const;

function valuePart(value: Value): [number, Buffer | string] {
  if (value === null) return [TAG.null, NO_BYTES];
  switch (typeof value) {
    case 'bigint':
      return [TAG.int, value.toString()];
    case 'number':
      return [Number.isInteger(value) ? TAG.int : TAG.float, String(value)];
    case 'string':
      return [TAG.string, value];
    case 'boolean':
      return [value ? TAG.true : TAG.false, NO_BYTES];
    default:
      return [TAG.bytes, value];
  }
}
