/**
 * avsc's Type.encode and Type.decode make a Tap (avsc's cursor over a buffer) per call, and decode also a
 * `{ value, offset }` result: four or more objects per change event on each of the source's encode and
 * the sink's decode, which avsc's own reads and writes then fill in. These run the same reads and writes
 * on one Tap per direction, reset for each value: the same bytes and values, without those objects.
 *
 * avsc does not export its Tap class; the one instance of it each direction needs is taken from a call of
 * a type's own encode, so it is avsc's Tap and has every read and write method avsc's types call. Neither
 * function may be called from inside a type's read or write (nothing here does), as they share that Tap.
 */
import avsc from 'avsc';
import type { Resolver, Type } from 'avsc';

/** The part of avsc's Tap (its private cursor) that this module and the codecs in avro-codecs.ts use. */
export interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  writeLong(n: number): void;
}

/** avsc's private read and write of a type. */
interface TypeInternals {
  _read(tap: Tap): unknown;
  _write(tap: Tap, value: unknown): void;
}
interface ResolverInternals {
  _readerType: Type;
  _read(tap: Tap): unknown;
}

const EMPTY = Buffer.alloc(0);

/** A Tap of avsc's own making: the one a `long` type's encode hands to its write. */
function avscTap(): Tap {
  let tap: Tap | undefined;
  const long = avsc.Type.forSchema('long');
  const probe = Object.create(long, { _write: { value: (made: Tap) => (tap = made) } }) as Type;
  probe.encode(0, EMPTY, 0);
  if (tap === undefined) throw new Error("avsc's Type.encode no longer hands a Tap to the type's write");
  tap.buf = EMPTY;
  return tap;
}

const writeTap = avscTap();
const readTap = avscTap();

/** As `type.encode(value, buf, pos)`: the end of the value's bytes, or when `buf` is too short minus (at least) the bytes missing. */
export function encodeAt(type: Type, value: unknown, buf: Buffer, pos: number): number {
  writeTap.buf = buf;
  writeTap.pos = pos;
  try {
    (type as unknown as TypeInternals)._write(writeTap, value);
    return writeTap.pos <= buf.length ? writeTap.pos : buf.length - writeTap.pos;
  } finally {
    // The slab is not kept alive by the tap.
    writeTap.buf = EMPTY;
  }
}

/**
 * As `type.decode(buf, pos, resolver)` for a value that must end exactly at the end of `buf`: the value,
 * or throws when the bytes are too few or too many.
 */
export function decodeWhole(type: Type, buf: Buffer, pos: number, resolver?: Resolver): unknown {
  readTap.buf = buf;
  readTap.pos = pos;
  try {
    let value: unknown;
    if (resolver === undefined) value = (type as unknown as TypeInternals)._read(readTap);
    else {
      const internals = resolver as unknown as ResolverInternals;
      if (internals._readerType !== type) throw new Error('invalid resolver');
      value = internals._read(readTap);
    }
    if (readTap.pos > buf.length) throw new Error('truncated Avro payload');
    if (readTap.pos !== buf.length) throw new Error(`${buf.length - readTap.pos} bytes left after the Avro value`);
    return value;
  } finally {
    readTap.buf = EMPTY;
  }
}
