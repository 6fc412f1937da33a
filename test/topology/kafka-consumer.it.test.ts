import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaTransport } from '../../topology/transports/kafka.ts';
import { deletePipelineTopics, kafkaTransport as newKafkaTransport, uniquePipeline } from './fixtures/kafka-kit.ts';
import { handoverWhileRetrying, stopWhileRetrying } from './support/handover-scenarios.ts';
import { eventually } from './support/eventually.ts';

const pipelines: string[] = [];
const transports: KafkaTransport[] = [];
// Heartbeats every 600 ms, so a rebalance is noticed within about a second.
const kafkaTransport = () => {
  const transport = newKafkaTransport({ sessionTimeoutMs: 6_000 });
  transports.push(transport);
  return transport;
};
const pipeline = (name: string) => {
  const id = uniquePipeline(name);
  pipelines.push(id);
  return id;
};
after(async () => {
  for (const transport of transports) await transport.close();
  for (const id of pipelines) await deletePipelineTopics(id);
});

// Without the batch's signal the first member would keep the group from re-forming for the broker's
// rebalance timeout (KafkaJS: 60 s), then be evicted while still retrying, and both would apply the partition.
test('a second process joining while a batch waits to retry takes the partition over, never two handlers at once', { timeout: 60_000 }, async () => {
  const id = pipeline('handover');
  await handoverWhileRetrying(kafkaTransport, `${id}.changes`, `${id}.sink`);
});

test('stop() while a batch waits to retry ends the retries, leaves the group and commits nothing', { timeout: 60_000 }, async () => {
  const id = pipeline('stop-retrying');
  await stopWhileRetrying(kafkaTransport(), `${id}.changes`, `${id}.sink`);
});

test('maxBytesPerPartition bounds what one fetch brings of a partition; by default one batch takes the whole backlog', { timeout: 60_000 }, async () => {
  const id = pipeline('fetch-bytes');
  const topic = `${id}.changes`;
  const transport = kafkaTransport();
  await transport.createTopics([{ name: topic, partitions: 1 }]);
  const producer = await transport.producer();
  // 40 sends of 10 records of 1 000 bytes: each send is a record batch of about 10 KB in the log.
  for (let send = 0; send < 40; send++) {
    await producer.send(Array.from({ length: 10 }, () => ({ topic, partition: 0, key: null, value: Buffer.alloc(1_000, 'x') })));
  }
  await producer.close();
  const batchSizes = async (group: string, maxBytesPerPartition?: number) => {
    const sizes: number[] = [];
    const consumer = await transport.consumer({
      groupId: `${id}.${group}`,
      topics: [topic],
      fromBeginning: true,
      ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition }),
      eachBatch: async (batch) => void sizes.push(batch.records.length),
    });
    await eventually(`group ${group} reads the 400 records`, () => sizes.reduce((sum, size) => sum + size, 0) >= 400, 30_000);
    await consumer.stop();
    return sizes;
  };
  // A fetch of 16 KiB brings the record batch that fits whole (the broker cuts the next one, which KafkaJS drops).
  const bounded = await batchSizes('bounded', 16 * 1024);
  assert.ok(Math.max(...bounded) <= 20, `batches of ${bounded.join(', ')} records`);
  assert.ok(Math.max(...(await batchSizes('default'))) > 20);
});
