/**
 * Events/s through source stage → change topic → repartition stage on the local Kafka, for ~1 KB events
 * (JSON serde, 1 KB payload column: the size of a wide Avro row), at least once and exactly-once:
 *
 *   node --import tsx scripts/bench-topology.ts [--events 300000] [--transaction 10]
 *
 * Timed from start() to the moment the repartition topic holds every event; the topics are deleted after.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaTransport } from '../topology/transports/kafka.ts';
import { TopologyBuilder } from '../topology/topology.ts';
import { JsonSerde } from '../topology/json-serde.ts';
import type { ChangeEvent } from '../topology/change-event.ts';
import { stackEnv } from '../test/support/stack-env.ts';
import { GeneratingSource } from '../test/topology/support/generating-source.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '300000' }, transaction: { type: 'string', default: '10' } } });
const total = Number(values.events);
const perTransaction = Number(values.transaction);
const brokers = stackEnv().KAFKA_BROKERS.split(',');
const payload = 'x'.repeat(1024);

function insert(id: number): ChangeEvent {
  return {
    op: 'c',
    key: { id },
    before: null,
    after: { id, payload },
    source: { connector: 'mysql', name: 'gen', db: 'bench', table: 't', position: String(id), tsMs: 0, snapshot: false },
    tsMs: 0,
  };
}

async function run(exactlyOnce: boolean): Promise<{ seconds: number; eventsPerSecond: number }> {
  const pipeline = `bench-${exactlyOnce ? 'eos' : 'alo'}-${randomUUID().slice(0, 8)}`;
  const transport = new KafkaTransport({ brokers, clientId: 'bench', logLevel: 'error' });
  const admin = new Kafka({ brokers, clientId: 'bench-admin', logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  const started = performance.now();
  const running = await new TopologyBuilder({ pipeline, serde: new JsonSerde(), exactlyOnce })
    .source(new GeneratingSource(total, perTransaction, insert), { snapshot: 'never' })
    .repartition({ partitions: 8 })
    .build()
    .start(transport);
  const repartitioned = async () => (await admin.fetchTopicOffsets(`${pipeline}.repartition`)).reduce((sum, { high }) => sum + Number(high), 0);
  while ((await repartitioned()) < total) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (performance.now() - started) / 1000;
  await running.stop();
  await transport.close();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((topic) => topic.startsWith(`${pipeline}.`)) });
  await admin.disconnect();
  return { seconds, eventsPerSecond: Math.round(total / seconds) };
}

const rows: string[] = [];
for (const exactlyOnce of [false, true]) {
  const { seconds, eventsPerSecond } = await run(exactlyOnce);
  rows.push(`| ${exactlyOnce ? 'exactly-once (transactions)' : 'at least once              '} | ${String(total).padStart(8)} | ${seconds.toFixed(1).padStart(6)} | ${String(eventsPerSecond).padStart(8)} |`);
}
console.log(`source → change topic → repartition (8 partitions), ~1 KB JSON events, ${perTransaction} events per source transaction`);
console.log('| mode                        |   events |      s | events/s |');
console.log('|-----------------------------|----------|--------|----------|');
for (const row of rows) console.log(row);
