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

/** The largest magnitude `integerToBytes` takes: 6 bytes (Buffer.writeIntBE's limit) hold |value| < 2^47. */
export const MAX_SMALL_INTEGER = 2 ** 47 - 1;

/** bigintToBytes for an integer of magnitude at most MAX_SMALL_INTEGER, in numbers: no BigInt or hex text per value. */
export function integerToBytes(value: number): Buffer {
  let length = 1;
  while (value >= 2 ** (8 * length - 1) || value < -(2 ** (8 * length - 1))) length++;
  const bytes = Buffer.allocUnsafe(length);
  bytes.writeIntBE(value, 0, length);
  return bytes;
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
