import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { stackEnv } from '../support/stack-env.ts';

test('an Avro record registered in the schema registry goes through Kafka and decodes', { timeout: 60_000 }, async () => {
  const env = stackEnv();
  const run = randomUUID().slice(0, 8);
  const topic = `stack-check-${run}`;
  const registry = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
  const schema = {
    type: 'record',
    name: 'Check',
    namespace: `stack.r${run}`,
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
    ],
  };
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });

  const kafka = new Kafka({ clientId: 'stack-check', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true });
  const consumer = kafka.consumer({ groupId: `stack-check-${run}` });
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true);
    await producer.connect();
    const value = await registry.encode(id, { id: 42, name: 'ünïcode 😀' });
    assert.equal(value[0], 0, 'Confluent wire format starts with magic byte 0');
    assert.equal(value.readInt32BE(1), id, 'then the 4-byte schema id');
    await producer.send({ topic, acks: -1, messages: [{ key: '42', value }] });

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<unknown>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(await registry.decode(message.value!)) }).catch(reject);
    });
    assert.deepEqual({ ...(received as object) }, { id: 42, name: 'ünïcode 😀' });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});
