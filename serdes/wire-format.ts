/**
 * Confluent's wire format: magic byte 0, the schema id as 4 bytes big-endian, then Avro binary.
 */
import type { Resolver, Type } from 'avsc';
import { decodeWhole } from './avro-tap.ts';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

/** Writes a value as Avro as avsc's Type.encode does (an avsc Type is one). */
export interface AvroEncoder<T> {
  /** Writes `value` at `pos` of `buf`: the end, or when `buf` is too short a negative number (minus at least the bytes missing). */
  encode(value: T, buf: Buffer, pos: number): number;
}

/** Records are framed into slabs of this size (a larger one for a record that does not fit). */
const SLAB_SIZE = 64 * 1024;

/**
 * Frames Avro values one after another into a slab and hands each out as a view of its own bytes: no copy,
 * and no allocation per record beyond the view. A slab lives as long as one of its records does; a record
 * that does not fit in what is left of one is framed again into the next.
 */
export class WireWriter {
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private used = 0;

  write<T>(schemaId: number, writer: AvroEncoder<T>, value: T): Buffer {
    for (;;) {
      const { slab, used: start } = this;
      let missing = HEADER_SIZE;
      if (slab.length - start >= HEADER_SIZE) {
        slab[start] = MAGIC_BYTE;
        slab.writeUInt32BE(schemaId, start + 1);
        const end = writer.encode(value, slab, start + HEADER_SIZE);
        if (end >= 0) {
          this.used = end;
          return slab.subarray(start, end);
        }
        // A negative end is minus (at least) the bytes missing.
        missing = -end;
      }
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_SIZE, 2 * (slab.length - start + missing)));
      this.used = 0;
    }
  }
}

/** Why `bytes` is not a Confluent-framed record, or undefined when its header is sound. */
export function frameError(bytes: Buffer): string | undefined {
  if (bytes.length < HEADER_SIZE) return `${bytes.length} bytes is shorter than the ${HEADER_SIZE}-byte header`;
  if (bytes[0] !== MAGIC_BYTE) return `unknown magic byte ${bytes[0]}`;
  return undefined;
}

/** The schema id of a record whose `frameError` is undefined. */
export function schemaIdOf(bytes: Buffer): number {
  return bytes.readUInt32BE(1);
}

/** The Avro value after the header; throws when the bytes do not decode to exactly one value. */
export function readPayload(bytes: Buffer, type: Type, resolver?: Resolver): unknown {
  return decodeWhole(type, bytes, HEADER_SIZE, resolver);
}
