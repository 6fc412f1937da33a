/**
 * patches/kafkajs+2.2.4.patch (applied by `npm ci` through patch-package) changes how KafkaJS builds produce
 * requests, never what it sends: these check the patched parts are in place and keep order and bytes.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
type Message = { partition: number; key: Buffer; value: Buffer };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (options: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (options: { message: Message }) => number;
}) => Record<string, Message[]>;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: { offsetDelta: number; timestampDelta: number; key: Buffer; value: Buffer }) => { buffer: Buffer };

test('the patched grouping keeps each partition\'s messages in order, in linear time', () => {
  const messages = Array.from({ length: 200_000 }, (_, i) => ({ partition: i % 3 === 0 ? 1 : 0, key: Buffer.from([i % 256]), value: Buffer.alloc(0) }));
  const started = performance.now();
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }) => message.partition });
  // A complexity check, not a benchmark: linear takes tens of ms, the unpatched reduce (a copy of the
  // partition's array per message) minutes.
  assert.ok(performance.now() - started < 5_000, 'grouping is linear');
  assert.deepEqual(Object.keys(grouped), ['0', '1']);
  assert.deepEqual(grouped[0], messages.filter((m) => m.partition === 0));
  assert.deepEqual(grouped[1], messages.filter((m) => m.partition === 1));
});

test('a record sized to its content encodes the bytes the Kafka record v2 format defines', () => {
  const { buffer } = Record({ offsetDelta: 1, timestampDelta: 2, key: Buffer.from('k'), value: Buffer.from('value') });
  // length 12 (zigzag 24), attributes 0, timestampDelta 2 (4), offsetDelta 1 (2), key length 1 (2) 'k', value length 5 (10) 'value', 0 headers.
  assert.deepEqual([...buffer], [24, 0, 4, 2, 2, 0x6b, 10, ...Buffer.from('value'), 0]);
});
