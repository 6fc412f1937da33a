/**
 * Events/s through source stage → change topic → repartition stage on the local Kafka, for ~1 KB events,
 * at least once and exactly-once:
 *
 *   node --import tsx scripts/bench-topology.ts [--serde avro|json] [--events 300000] [--transaction 10]
 *
 * `--serde avro` (the product's serde, AvroEventSerde on the stack's schema registry): a two-column row
 * whose Confluent-framed Avro value is about 1 KB. `--serde json` (the default, JsonSerde): a 1 KB payload
 * column, about 1.2 KB of JSON. Timed from start() to the moment the repartition topic holds every event;
 * the topics are deleted after. The machine's load average is printed with the figures (the CPU is shared);
 * this process's CPU time per event (both stages, `process.cpuUsage`) depends less on the load than events/s.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from '../topology/transports/kafka/kafkajs.ts';
import { KafkaTransport } from '../topology/transports/kafka.ts';
import { TopologyBuilder } from '../topology/topology.ts';
import { JsonSerde } from '../topology/json-serde.ts';
import type { ChangeEvent, TableSchema } from '../topology/change-event.ts';
import type { EventSerde } from '../topology/serde.ts';
import { AvroEventSerde } from '../serdes/avro-serde.ts';
import { ConfluentSchemaRegistry } from '../serdes/registry.ts';
import { recordNameStrategy } from '../serdes/subject-name.ts';
import { stackEnv } from '../test/support/stack-env.ts';
import { GeneratingSource } from '../test/topology/support/generating-source.ts';

const { values } = parseArgs({
  options: {
    serde: { type: 'string', default: 'json' },
    events: { type: 'string', default: '300000' },
    transaction: { type: 'string', default: '10' },
  },
});
if (values.serde !== 'json' && values.serde !== 'avro') throw new Error(`--serde must be avro or json, got ${values.serde}`);
const serdeName = values.serde;
const total = Number(values.events);
const perTransaction = Number(values.transaction);
const env = stackEnv();
const brokers = env.KAFKA_BROKERS.split(',');

const table: TableSchema = {
  db: 'bench',
  table: 't',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'payload', type: 'varchar', length: 2048, nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};
// The Avro envelope adds about 60 bytes (header, source block, op, timestamps) to the payload.
const payload = 'x'.repeat(serdeName === 'avro' ? 971 : 1024);

function insert(id: number): ChangeEvent {
  return {
    op: 'c',
    key: { id },
    before: null,
    after: { id, payload },
    source: { connector: 'mysql', name: 'gen', db: table.db, table: table.table, position: String(id), tsMs: 0, snapshot: false },
    tsMs: 0,
    schema: table,
  };
}

function newSerde(): EventSerde {
  if (serdeName === 'json') return new JsonSerde();
  return new AvroEventSerde({
    registry: ConfluentSchemaRegistry.fromArgs({ host: env.SCHEMA_REGISTRY_URL }),
    prefix: 'rxcdc-bench',
    // One subject per table, whatever the (random) pipeline's topics: every run reuses the same
    // registered schema instead of leaving new subjects behind in the shared registry.
    subjectNameStrategy: recordNameStrategy,
  });
}

/** Mean bytes of a record value, over a few events spread across the id range (the position grows). */
async function valueBytes(serde: EventSerde, topic: string): Promise<number> {
  const sample = [0, Math.floor(total / 2), total - 1].map(insert);
  const encoded = await serde.encode(topic, sample);
  return Math.round(encoded.reduce((sum, record) => sum + record.value.length, 0) / encoded.length);
}

async function run(exactlyOnce: boolean): Promise<{ seconds: number; eventsPerSecond: number; cpuMicrosPerEvent: number; valueBytes: number }> {
  const pipeline = `bench-${exactlyOnce ? 'eos' : 'alo'}-${randomUUID().slice(0, 8)}`;
  const transport = new KafkaTransport({ brokers, clientId: 'bench', logLevel: 'error' });
  const admin = new Kafka({ brokers, clientId: 'bench-admin', logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  const serde = newSerde();
  // Also registers the schemas before the clock starts, as a running pipeline has long done.
  const bytes = await valueBytes(serde, `${pipeline}.gen.changes`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const running = await new TopologyBuilder({ pipeline, serde, exactlyOnce })
    .source(new GeneratingSource(total, perTransaction, insert), { snapshot: 'never' })
    .repartition({ partitions: 8 })
    .build()
    .start(transport);
  const repartitioned = async () => (await admin.fetchTopicOffsets(`${pipeline}.repartition`)).reduce((sum, { high }) => sum + Number(high), 0);
  while ((await repartitioned()) < total) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await running.stop();
  await transport.close();
  await admin.deleteTopics({ topics: (await admin.listTopics()).filter((topic) => topic.startsWith(`${pipeline}.`)) });
  await admin.disconnect();
  return { seconds, eventsPerSecond: Math.round(total / seconds), cpuMicrosPerEvent: (cpu.user + cpu.system) / total, valueBytes: bytes };
}

const load = () => loadavg().map((average) => average.toFixed(2)).join(' ');
const rows: string[] = [];
let bytes = 0;
console.log(`load average before: ${load()}`);
for (const exactlyOnce of [false, true]) {
  const result = await run(exactlyOnce);
  bytes = result.valueBytes;
  rows.push(
    `| ${exactlyOnce ? 'exactly-once (transactions)' : 'at least once              '} | ${String(total).padStart(8)} | ${result.seconds.toFixed(1).padStart(6)} | ${String(result.eventsPerSecond).padStart(8)} | ${result.cpuMicrosPerEvent.toFixed(1).padStart(12)} |`,
  );
}
console.log(`source → change topic → repartition (8 partitions), ${serdeName} events of ${bytes} bytes (record value), ${perTransaction} events per source transaction`);
console.log('| mode                        |   events |      s | events/s | CPU µs/event |');
console.log('|-----------------------------|----------|--------|----------|--------------|');
for (const row of rows) console.log(row);
console.log(`load average after: ${load()}`);
