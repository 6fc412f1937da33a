import type { RowIdentity, Value } from './change-event.ts';

/**
 * The canonical bytes of a row's identity: table + primary key. They are the input of murmur2 that places
 * a row in its repartition partition, so they must never change between versions or processes:
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
  const length = shared.write(event);
  const out = Buffer.allocUnsafe(length);
  shared.buffer.copy(out, 0, 0, length);
  return out;
}

const TAG = { null: 0x6e, int: 0x69, float: 0x66, string: 0x73, bytes: 0x62, true: 0x74, false: 0x46 } as const;
/** The most UTF-8 bytes one UTF-16 code unit of a string takes. */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Writes row keys (encodeRowKey's bytes) into one buffer it reuses, grown as needed: for bytes used at once,
 * as a hash is computed, and not kept. No allocation per key beyond the decimal text of an integer.
 */
export class RowKeyWriter {
  buffer = Buffer.allocUnsafe(256);

  /** Writes `event`'s row key at the start of `buffer`; returns its length. */
  write(event: RowIdentity): number {
    const { db, table } = event.source;
    this.ensure(0, 3 + MAX_UTF8_PER_UNIT * (db.length + table.length));
    let at = 2 + this.buffer.write(db, 2);
    this.buffer[at++] = 0x2e; // '.'
    at += this.buffer.write(table, at);
    this.buffer.writeUInt16BE(at - 2, 0);
    for (const column in event.key) at = this.writeValue(event.key[column]!, at);
    return at;
  }

  private writeValue(value: Value, at: number): number {
    if (value === null) return this.writePart(TAG.null, '', at);
    switch (typeof value) {
      case 'bigint':
        return this.writePart(TAG.int, value.toString(), at);
      case 'number':
        return this.writePart(Number.isInteger(value) ? TAG.int : TAG.float, String(value), at);
      case 'string':
        return this.writePart(TAG.string, value, at);
      case 'boolean':
        return this.writePart(value ? TAG.true : TAG.false, '', at);
      default: {
        this.ensure(at, 5 + value.length);
        const length = value.copy(this.buffer, at + 5);
        return this.writeHeader(TAG.bytes, length, at);
      }
    }
  }

  private writePart(tag: number, text: string, at: number): number {
    this.ensure(at, 5 + MAX_UTF8_PER_UNIT * text.length);
    const length = text.length === 0 ? 0 : this.buffer.write(text, at + 5);
    return this.writeHeader(tag, length, at);
  }

  /** The tag and length before a payload of `length` bytes at `at + 5`; returns the end of the payload. */
  private writeHeader(tag: number, length: number, at: number): number {
    this.buffer[at] = tag;
    this.buffer.writeUInt32BE(length, at + 1);
    return at + 5 + length;
  }

  /** Room for `bytes` more bytes at `at`, the bytes before it kept. */
  private ensure(at: number, bytes: number): void {
    if (at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, at + bytes));
    this.buffer.copy(grown, 0, 0, at);
    this.buffer = grown;
  }
}

const shared = new RowKeyWriter();
