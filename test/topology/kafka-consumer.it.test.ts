import { after, test } from 'node:test';
import type { KafkaTransport } from '../../topology/transports/kafka.ts';
import { deletePipelineTopics, kafkaTransport as newKafkaTransport, uniquePipeline } from './fixtures/kafka-kit.ts';
import { handoverWhileRetrying, stopWhileRetrying } from './support/handover-scenarios.ts';

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
