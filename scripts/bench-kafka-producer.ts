/**
 * CPU per record of our Kafka producer path (topology/transports/kafka/producer.ts over KafkaJS with its
 * fast path, topology/transports/kafka/kafkajs-fast-path; the output says whether it was on): 100 sends of 2000 records of 150 bytes, transactional, after 10 warm-up
 * sends. CPU time (process.cpuUsage) rather than wall time, so the figure holds on a shared machine.
 *
 *   node --import tsx scripts/bench-kafka-producer.ts [--partitions 1|8] [--transactions true|false]
 */
// First, before anything loads kafkajs: KafkaJS as the product loads it, with its fast path.
import { Kafka, logLevel } from '../topology/transports/kafka/kafkajs.ts';
import { kafkaJsFastPath } from '../topology/transports/kafka/kafkajs-fast-path/index.ts';
import { parseArgs } from 'node:util';
import { kafkaProducer } from '../topology/transports/kafka/producer.ts';
import { stackEnv } from './stack/env.ts';

const { values } = parseArgs({ options: { partitions: { type: 'string', default: '1' }, transactions: { type: 'string', default: 'true' } } });
const partitions = Number(values.partitions);
const env = stackEnv();
const kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'bench-producer', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topic = `bench-producer-${Date.now()}`;
await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
const producer = await kafkaProducer(kafka, values.transactions === 'false' ? {} : { transactionalId: `${topic}-tx` });
try {
  const value = Buffer.alloc(150, 7);
  const batch = Array.from({ length: 2000 }, (_, i) => ({ topic, partition: i % partitions, key: Buffer.from(`key-${i}`), value }));
  for (let i = 0; i < 10; i++) await producer.send(batch);
  const sends = 100;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < sends; i++) await producer.send(batch);
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  const records = sends * batch.length;
  console.log(`${records} records into ${partitions} partition(s): ${((cpu.user + cpu.system) / records).toFixed(2)} CPU µs/record, ${Math.round(records / seconds)} records/s wall; KafkaJS fast path ${JSON.stringify(kafkaJsFastPath())}`);
} finally {
  await producer.close();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}
