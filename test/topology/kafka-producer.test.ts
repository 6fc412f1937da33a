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
