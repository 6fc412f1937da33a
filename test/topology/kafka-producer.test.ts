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
