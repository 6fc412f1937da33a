/**
 * Avro's decimal logical type stores the unscaled value as big-endian two's-complement bytes, the
 * shortest that hold it (as Java's BigInteger.toByteArray writes them).
 */
export function bigintToBytes(value: bigint): Buffer {
  if (value >= 0n) return Buffer.from(nonNegativeHex(value), 'hex');
  // A negative value is the bitwise complement of the non-negative -value-1, byte for byte.
  const bytes = Buffer.from(nonNegativeHex(-value - 1n), 'hex');
  for (let i = 0; i < bytes.length; i++) bytes[i] = ~(bytes[i] as number) & 0xff;
  return bytes;
}

/** The largest magnitude `writeSmallInteger` takes: 6 bytes hold |value| < 2^47. */
export const MAX_SMALL_INTEGER = 2 ** 47 - 1;

/** The bytes writeSmallInteger needs at most. */
export const SMALL_INTEGER_BYTES = 6;

// 2^(8n - 1): an n-byte two's complement holds [-limit, limit).
const SIGNED_LIMITS = Array.from({ length: SMALL_INTEGER_BYTES }, (_, i) => 2 ** (8 * (i + 1) - 1));

/**
 * bigintToBytes for an integer of magnitude at most MAX_SMALL_INTEGER, in numbers (no BigInt or hex text
 * per value), written at the start of `into` (SMALL_INTEGER_BYTES long at least): returns how many bytes.
 */
export function writeSmallInteger(value: number, into: Uint8Array): number {
  let length = 1;
  while (value >= SIGNED_LIMITS[length - 1]! || value < -SIGNED_LIMITS[length - 1]!) length++;
  // Byte by byte from the end, in arithmetic: bit operators stop at 32 bits.
  for (let i = length - 1, rest = value; i >= 0; i--) {
    const byte = ((rest % 256) + 256) % 256;
    into[i] = byte;
    rest = (rest - byte) / 256;
  }
  return length;
}

/** Even-length hex whose first bit is 0, so the bytes read back as non-negative. */
function nonNegativeHex(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return hex.charCodeAt(0) >= 56 /* '8' */ ? `00${hex}` : hex;
}

export function bytesToBigint(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  const unsigned = BigInt(`0x${bytes.toString('hex')}`);
  return (bytes[0] as number) & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}
