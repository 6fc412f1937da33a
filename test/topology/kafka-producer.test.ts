/**
 * The Kafka producer wrapper (topology/transports/kafka/producer.ts) while the broker is away, on a fake
 * KafkaJS client. The fault suite (test/faults/broker.it.test.ts) found `cdc run` dying of an unhandled
 * rejection when the broker stopped: after a failed send the wrapper connects a replacement producer in the
 * background, and when that connect failed with nobody sending, the rejection ended the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { kafkaProducer } from '../../topology/transports/kafka/producer.ts';
import { topicMessages } from '../../topology/transports/kafka/records.ts';

test('a replacement producer that cannot connect while the broker is down is no unhandled rejection; sends fail until it is back, then succeed', async () => {
  let brokerUp = true;
  let connects = 0;
  const fake = {
    producer: () => ({
      connect: async () => {
        connects++;
        if (!brokerUp) throw new Error('connect ECONNREFUSED (broker down)');
      },
      disconnect: async () => {},
      sendBatch: async () => {
        if (!brokerUp) throw new Error('connection closed (broker down)');
        return [];
      },
    }),
  } as unknown as Kafka;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const producer = await kafkaProducer(fake);
    const record = { topic: 't', partition: 0, key: null, value: Buffer.from('v') };
    brokerUp = false;
    await assert.rejects(producer.send([record]), /broker down/);
    // Nobody sends for a while: the replacement's failed connect must not surface on its own.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
    assert.equal(connects, 1, 'the replacement connects when a send needs it');
    await assert.rejects(producer.send([record]), /ECONNREFUSED \(broker down\)/);
    brokerUp = true;
    await producer.send([record]);
    await producer.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("a send's records reach KafkaJS grouped by topic in their order, whether a topic's records are one run or interleave with another's", () => {
  const record = (topic: string, n: number) => ({ topic, partition: n % 2, key: null, value: Buffer.from(String(n)) });
  const names = (groups: ReturnType<typeof topicMessages>) => groups.map(({ topic, messages }) => `${topic}:${messages.map((m) => String(m.value)).join(',')}`);
  assert.deepEqual(names(topicMessages([record('a', 1), record('a', 2), record('tokens', 3)])), ['a:1,2', 'tokens:3']);
  assert.deepEqual(names(topicMessages([record('a', 1), record('b', 2), record('a', 3), record('b', 4), record('c', 5)])), ['a:1,3', 'b:2,4', 'c:5']);
  assert.deepEqual(topicMessages([]), []);
});

test('a send over the request size goes out as requests of at most that size, in order', async () => {
  const sent: string[][] = [];
  const fake = {
    producer: () => ({
      connect: async () => {},
      disconnect: async () => {},
      sendBatch: async ({ topicMessages: groups }: { topicMessages: ReturnType<typeof topicMessages> }) => {
        sent.push(groups.flatMap(({ messages }) => messages.map((m) => String((m.value as Buffer)[0]))));
        return [];
      },
    }),
  } as unknown as Kafka;
  const producer = await kafkaProducer(fake);
  const record = (n: number, bytes: number) => ({ topic: 't', partition: 0, key: null, value: Buffer.alloc(bytes, n) });
  await producer.send([record(1, 100), record(2, 100)]);
  await producer.send([record(3, 500 * 1024), record(4, 500 * 1024), record(5, 100)]);
  await producer.close();
  assert.deepEqual(sent, [['1', '2'], ['3'], ['4', '5']]);
});

test('with maxPartitionBatchBytes, no partition has a larger record batch in any request, each partition keeps its order, and a send within the bound is one request', async () => {
  const sent: Array<Array<{ topic: string; partition: number; value: number; bytes: number }>> = [];
  const fake = {
    producer: () => ({
      connect: async () => {},
      disconnect: async () => {},
      sendBatch: async ({ topicMessages: groups }: { topicMessages: ReturnType<typeof topicMessages> }) => {
        sent.push(groups.flatMap(({ topic, messages }) => messages.map((m) => ({ topic, partition: m.partition!, value: (m.value as Buffer).readUInt32BE(0), bytes: (m.value as Buffer).length }))));
        return [];
      },
    }),
  } as unknown as Kafka;
  const bound = 16 * 1024;
  const producer = await kafkaProducer(fake, { maxPartitionBatchBytes: bound });
  let n = 0;
  const record = (topic: string, partition: number, bytes: number) => {
    const value = Buffer.alloc(bytes);
    value.writeUInt32BE(n++, 0);
    return { topic, partition, key: Buffer.from('k'), value, headers: { origin: 'test' } };
  };
  // Partition 0 of `a` takes most of the send (skewed), partition 1 little, topic `b` shares partition numbers.
  const records = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? record('a', 1, 300) : i % 10 === 5 ? record('b', 0, 500) : record('a', 0, 400)));
  await producer.send(records);
  await producer.send([record('a', 0, 100), record('a', 1, 100)]);
  await producer.close();

  assert.ok(sent.length > 2, `the skewed send was split (${sent.length} requests)`);
  assert.equal(sent.at(-1)!.length, 2, 'a send within the bound is one request');
  // Record batch v2: 61 bytes of header; per record its key, value and header bytes plus at most 36 + 10 per header.
  for (const request of sent) {
    const batches = new Map<string, number>();
    for (const { topic, partition, bytes } of request) batches.set(`${topic}/${partition}`, (batches.get(`${topic}/${partition}`) ?? 61) + 1 + bytes + 36 + 10 + 'origin'.length + 'test'.length);
    for (const [slot, bytes] of batches) assert.ok(bytes <= bound, `${slot}: a batch of ${bytes} bytes over ${bound}`);
  }
  const order = (topic: string, partition: number) => sent.flat().filter((r) => r.topic === topic && r.partition === partition).map((r) => r.value);
  for (const [topic, partition] of [['a', 0], ['a', 1], ['b', 0]] as const) {
    const values = order(topic, partition);
    assert.deepEqual(values, [...values].sort((x, y) => x - y), `${topic}/${partition} in send order`);
  }
  assert.equal(sent.flat().length, 302, 'every record sent once');
});
