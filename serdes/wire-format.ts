/**
 * Confluent's wire format: magic byte 0, the schema id as 4 bytes big-endian, then Avro binary.
 */
import type { Resolver, Type } from 'avsc';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

/**
 * Frames Avro values into one reusable scratch buffer and copies out exactly the bytes used: one
 * allocation per record, none for growing or for a separate header.
 */
export class WireWriter {
  private scratch = Buffer.allocUnsafe(64 * 1024);

  write(schemaId: number, type: Type, value: unknown): Buffer {
    for (;;) {
      const scratch = this.scratch;
      scratch[0] = MAGIC_BYTE;
      scratch.writeUInt32BE(schemaId, 1);
      const end = type.encode(value, scratch, HEADER_SIZE);
      if (end >= 0) {
        const framed = Buffer.allocUnsafe(end);
        scratch.copy(framed, 0, 0, end);
        return framed;
      }
      // A negative end is minus the bytes missing.
      this.scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
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
  const { value, offset } = type.decode(bytes, HEADER_SIZE, resolver);
  if (offset < 0) throw new Error('truncated Avro payload');
  if (offset !== bytes.length) throw new Error(`${bytes.length - offset} bytes left after the Avro value`);
  return value;
}
