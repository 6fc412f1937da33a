/**
 * The KafkaJS fast path (topology/transports/kafka/kafkajs-fast-path) changes how KafkaJS builds produce
 * requests and reads fetched records, never the bytes or the records: these check it is installed when
 * KafkaJS is loaded through the product, keep order and bytes, compare its bytes with KafkaJS as published
 * (in child processes), and check it refuses another KafkaJS version or a KafkaJS loaded before it.
 */
// First, before anything loads kafkajs: KafkaJS as the product loads it, with the fast path.
import '../../topology/transports/kafka/kafkajs.ts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { crc32C as fastCrc32C } from '../../topology/transports/kafka/kafkajs-fast-path/crc32c.ts';
import { groupMessagesPerPartition as fastGrouping } from '../../topology/transports/kafka/kafkajs-fast-path/group-messages-per-partition.ts';
import { installKafkaJsFastPath, kafkaJsFastPath } from '../../topology/transports/kafka/kafkajs-fast-path/index.ts';

const require = createRequire(import.meta.url);
type Message = { partition?: number; key: Buffer; value: Buffer };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (options: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (options: { message: Message }) => number;
}) => Record<string, Message[]>;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: { offsetDelta: number; timestampDelta: number; key: Buffer; value: Buffer }) => { buffer: Buffer };

test('loaded through the product, KafkaJS runs with the fast path: its modules are the fast path\'s', () => {
  assert.deepEqual(kafkaJsFastPath(), { active: true });
  assert.equal(require('kafkajs/src/protocol/recordBatch/crc32C/crc32C'), fastCrc32C);
  assert.equal(require('kafkajs/src/producer/groupMessagesPerPartition'), fastGrouping);
  // Installing again answers the same and changes nothing.
  assert.deepEqual(installKafkaJsFastPath(), { active: true });
});

test('another KafkaJS version is refused before anything is touched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafkajs-'));
  const packageJsonPath = join(dir, 'package.json');
  writeFileSync(packageJsonPath, JSON.stringify({ name: 'kafkajs', version: '2.2.5' }));
  const modules = Object.keys(require.cache).length;
  assert.deepEqual(installKafkaJsFastPath({ packageJsonPath }), { active: false, reason: 'kafkajs 2.2.5 is installed; the fast path is written for 2.2.4 only' });
  assert.equal(Object.keys(require.cache).length, modules);
  assert.match(installKafkaJsFastPath({ packageJsonPath: join(dir, 'absent.json') }).reason!, /package\.json could not be read/);
  assert.deepEqual(kafkaJsFastPath(), { active: true }, 'the installed fast path stays');
});

const fixture = fileURLToPath(new URL('fixtures/kafkajs-bytes.ts', import.meta.url));
const bytesOf = async (mode: 'fast' | 'published') =>
  JSON.parse((await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, mode], { maxBuffer: 64 << 20 })).stdout) as {
    status: { active: boolean; reason?: string };
    published: { encoderUntouched?: boolean; groupingUntouched?: boolean; warnings?: { fields: object; message: string }[] };
    encodings: Record<string, string>;
    decoded: unknown;
    grouping: unknown;
  };

test('produce requests (v3, v5, v7; uncompressed and gzip; idempotent and transactional), record batches and the records read back are KafkaJS\'s own, byte for byte', async () => {
  const [fast, published] = await Promise.all([bytesOf('fast'), bytesOf('published')]);
  assert.deepEqual(fast.status, { active: true });
  assert.equal(Object.keys(fast.encodings).length, 14);
  assert.deepEqual(fast.encodings, published.encodings);
  assert.deepEqual(fast.decoded, published.decoded);
  assert.deepEqual(fast.grouping, published.grouping);

  // KafkaJS loaded first: the fast path installs nothing at all, and the transport says so once, as a warning.
  assert.equal(published.status.active, false);
  assert.match(published.status.reason!, /kafkajs was loaded before the fast path could be installed/);
  assert.equal(published.published.encoderUntouched, true);
  assert.equal(published.published.groupingUntouched, true);
  assert.deepEqual(published.published.warnings, [{ fields: { reason: published.status.reason }, message: 'KafkaJS fast path off: producing and consuming use more CPU' }]);
});

test('the grouping keeps each partition\'s messages in order, in linear time', () => {
  const messages = Array.from({ length: 200_000 }, (_, i) => ({ partition: i % 3 === 0 ? 1 : 0, key: Buffer.from([i % 256]), value: Buffer.alloc(0) }));
  const started = performance.now();
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }) => message.partition! });
  // A complexity check, not a benchmark: linear takes tens of ms, KafkaJS's own reduce (a copy of the
  // partition's array per message) minutes.
  assert.ok(performance.now() - started < 5_000, 'grouping is linear');
  assert.deepEqual(Object.keys(grouped), ['0', '1']);
  assert.deepEqual(grouped[0], messages.filter((m) => m.partition === 0));
  assert.deepEqual(grouped[1], messages.filter((m) => m.partition === 1));
});

test('the grouping takes explicit partitions as they are, asks the partitioner for the rest, and keeps a one-partition array', () => {
  const explicit = [0, 1, 2].map((i) => ({ partition: 4, key: Buffer.from([i]), value: Buffer.alloc(0) }));
  const group = (messages: Message[]) =>
    groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }) => (message.key[0]! % 2 === 0 ? 0 : 1) });
  assert.equal(group(explicit)[4], explicit);
  const implicit = [0, 1, 2].map((i) => ({ key: Buffer.from([i]), value: Buffer.alloc(0) }));
  assert.deepEqual(group(implicit), { 0: [implicit[0], implicit[2]], 1: [implicit[1]] });
  assert.deepEqual(group([implicit[0]!, explicit[1]!]), { 0: [implicit[0]], 4: [explicit[1]] });
  assert.deepEqual(group([]), {});
});

test('a record sized to its content encodes the bytes the Kafka record v2 format defines', () => {
  const { buffer } = Record({ offsetDelta: 1, timestampDelta: 2, key: Buffer.from('k'), value: Buffer.from('value') });
  // length 12 (zigzag 24), attributes 0, timestampDelta 2 (4), offsetDelta 1 (2), key length 1 (2) 'k', value length 5 (10) 'value', 0 headers.
  assert.deepEqual([...buffer], [24, 0, 4, 2, 2, 0x6b, 10, ...Buffer.from('value'), 0]);
});

type Encoder = { buffer: Buffer; writeVarLong(value: number | bigint): Encoder; writeVarInt(value: number): Encoder };
const Encoder = require('kafkajs/src/protocol/encoder') as { new (): Encoder; sizeOfVarLong(value: number): number; sizeOfVarInt(value: number): number };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => { readVarLong(): { value: bigint }; readVarInt(): number; offset: number };
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: InstanceType<typeof Decoder>,
  batchContext: { firstOffset: string; firstTimestamp: string },
) => { offset: string; timestamp: string; key: Buffer; value: Buffer; headers: Record<string, Buffer> };

/** Kafka's zigzag varlong, from its definition (BigInt, so no shortcut is shared with the code under test). */
function varLong(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const bytes: number[] = [];
  for (; zigzag >= 0x80n; zigzag >>= 7n) bytes.push(Number(zigzag & 0x7fn) | 0x80);
  return [...bytes, Number(zigzag)];
}

// Around every byte-length boundary, the 31-bit fast path's edges, and far beyond them.
const VALUES = [0, 1, -1, 63, -64, 64, -65, 8191, 8192, -8193, 2 ** 20, 2 ** 27, -(2 ** 27), 2 ** 28, 2 ** 30 - 1, -(2 ** 30), 2 ** 30, -(2 ** 30) - 1, 2 ** 31, -(2 ** 31), 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];

test('the varint and varlong writers and readers keep the bytes and values of the Kafka protocol', () => {
  for (const value of VALUES) {
    const expected = varLong(BigInt(value));
    assert.deepEqual([...new Encoder().writeVarLong(value).buffer], expected, `writeVarLong(${value})`);
    assert.equal(Encoder.sizeOfVarLong(value), expected.length, `sizeOfVarLong(${value})`);
    const decoder = new Decoder(Buffer.from([...expected, 0x2a]));
    assert.equal(decoder.readVarLong().value, BigInt(value), `readVarLong(${value})`);
    assert.equal(decoder.offset, expected.length);
    if (value >= -(2 ** 31) && value < 2 ** 31) {
      assert.deepEqual([...new Encoder().writeVarInt(value).buffer], expected, `writeVarInt(${value})`);
      assert.equal(new Decoder(Buffer.from(expected)).readVarInt(), value);
    }
  }
});

test('records decode to their offsets and timestamps (from the batch\'s first ones), keys, values and headers', () => {
  const records = (firstOffset: bigint, firstTimestamp: bigint, deltas: Array<[number, number]>) => {
    const batch = { firstOffset: String(firstOffset), firstTimestamp: String(firstTimestamp) };
    return deltas.map(([offsetDelta, timestampDelta], i) => {
      // Every third record has headers, one of them repeated.
      const headers = i % 3 === 2 ? { h: ['x', 'y'], g: 'z' } : undefined;
      const { buffer } = Record({ offsetDelta, timestampDelta, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), ...(headers ? { headers } : {}) } as Parameters<typeof Record>[0]);
      const decoded = RecordDecoder(new Decoder(buffer.subarray(1)), batch);
      const expected = [String(firstOffset + BigInt(offsetDelta)), String(firstTimestamp + BigInt(timestampDelta)), `k${i}`, `v${i}`, headers ? ['h=x,y', 'g=z'] : []];
      const actual = [decoded.offset, decoded.timestamp, String(decoded.key), String(decoded.value), Object.keys(decoded.headers).map((name) => `${name}=${String(decoded.headers[name])}`)];
      return [actual, expected];
    });
  };
  const deltas: Array<[number, number]> = [
    [0, 0],
    [1, 2 ** 29],
    [2, -5],
    [3, 2 ** 27 - 1],
    [2 ** 31 - 1, -(2 ** 40)],
    [5, 2 ** 52],
  ];
  // Offsets and timestamps in numbers, and past 2^53 (where the sums must be exact all the same).
  const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
  for (const [firstOffset, firstTimestamp] of [
    [0n, 1764000000000n],
    [MAX_SAFE - 2n, MAX_SAFE],
    [9007199254740993n, -1n],
    [(1n << 62n) + 1n, 1n << 60n],
  ] as const) {
    for (const [actual, expected] of records(firstOffset, firstTimestamp, deltas)) assert.deepEqual(actual, expected, `from offset ${firstOffset}, timestamp ${firstTimestamp}`);
  }
});

const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (batch: { records: unknown[]; firstTimestamp: number; maxTimestamp: number }) => Promise<{ buffer: Buffer }> };

/** CRC-32C from its definition: reflected polynomial 0x82F63B78, one bit at a time. */
function crc32CByBits(buffer: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buffer) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test('the CRC-32C (eight bytes per step) is the checksum Kafka defines, for every length and alignment', () => {
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + (i >> 3)) & 0xff));
  for (let length = 0; length <= 40; length++) {
    for (const start of [0, 1, 3, 7]) assert.equal(crc32C(bytes.subarray(start, start + length)), crc32CByBits(bytes.subarray(start, start + length)), `${length} bytes at ${start}`);
  }
  assert.equal(crc32C(bytes), crc32CByBits(bytes));
});

test('a record batch sized in advance holds its records and a checksum over them', async () => {
  const records = Array.from({ length: 300 }, (_, i) => Record({ offsetDelta: i, timestampDelta: 0, key: Buffer.from(`k${i}`), value: Buffer.alloc(i, i) }));
  const { buffer } = await RecordBatch({ records, firstTimestamp: 1, maxTimestamp: 1 });
  // firstOffset int64, then the batch as length-prefixed bytes: length int32, leader epoch int32, magic, crc, then the body.
  const body = buffer.subarray(8 + 4 + 4 + 1 + 4);
  assert.equal(buffer.readInt32BE(8), buffer.length - 12);
  assert.equal(buffer.readUInt32BE(8 + 4 + 4 + 1), crc32CByBits(body));
  const recordBytes = Buffer.concat(records.map((record) => record.buffer));
  assert.deepEqual(body.subarray(body.length - recordBytes.length), recordBytes);
  assert.equal(body.readInt32BE(body.length - recordBytes.length - 4), 300);
});
