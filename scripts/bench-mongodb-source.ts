/**
 * Snapshot docs/s and streaming events/s of the MongoDB source against MONGODB_URL (the stack's test
 * server by default):
 *
 *   node --import tsx scripts/bench-mongodb-source.ts [documents=100000] [--kafka]
 *
 * Without `--kafka`, the source alone (its Observables, nothing written anywhere):
 * - snapshot: `documents` documents read as `r` events;
 * - stream inserts: `documents` inserts written after openLog(), then read back from the change stream;
 * - stream updates: one update of each of the first `documents` documents, written while the source was
 *   down, read back by a restarted stream from its last committed token.
 * With `--kafka`, the same through the topology on the stack's Kafka: the source stage with the Avro
 * serde on the stack's schema registry, into the change topic, and the repartition stage (4 partitions)
 * running alongside in the process. Timed from start() until the change topic holds every event, and
 * the startup (start() to the first record: topic checks, the source's group join, openLog) shown
 * apart; per second counts the time after it. The streaming phases restart the topology from its
 * stored token, as a restarted process does.
 *
 * The test server (mongo-java-server) reads its whole in-memory oplog for every getMore and never
 * truncates it, so its figures fall as the oplog grows: the oplog's size is printed with them, and the
 * machine's load (the CPU is shared).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from '../topology/transports/kafka/kafkajs.ts';
import { MongoClient, type Collection } from 'mongodb';
import { lastValueFrom, filter, take, toArray, tap } from 'rxjs';
import { FlowControl } from '../topology/flow-control.ts';
import { TopologyBuilder } from '../topology/topology.ts';
import { KafkaTransport } from '../topology/transports/kafka.ts';
import type { LogPosition, StreamItem } from '../topology/source.ts';
import { AvroEventSerde } from '../serdes/avro-serde.ts';
import { ConfluentSchemaRegistry } from '../serdes/registry.ts';
import { MongoSource } from '../connectors/mongodb/source.ts';
import { stackEnv } from '../test/support/stack-env.ts';

const { values, positionals } = parseArgs({ options: { kafka: { type: 'boolean', default: false } }, allowPositionals: true });
const documents = Number(positionals[0] ?? 100_000);
const env = stackEnv();
const url = env.MONGODB_URL;
const database = `bench_mongo_source_${randomUUID().slice(0, 8)}`;

interface Order {
  _id: number;
  name: string;
  amount: number;
  tags: string[];
}

const make = (id: number): Order => ({ _id: id, name: `order ${id}`, amount: id * 1.5, tags: ['a', 'b'] });

async function insertRange(collection: Collection<Order>, from: number, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10_000) {
    await collection.insertMany(Array.from({ length: Math.min(10_000, count - start) }, (_, i) => make(from + start + i)));
  }
}

interface Figure {
  phase: string;
  count: number;
  seconds: number;
  /** With --kafka: from start() to the first record in the change topic (group joins, topic checks, openLog). */
  startup?: number;
}

/** The source's Observables, drained in this process. */
async function benchSource(collection: Collection<Order>): Promise<Figure[]> {
  const figures: Figure[] = [];
  const source = new MongoSource({ name: 'bench', url, database, chunkSize: 10_000 });
  const flow = new FlowControl();
  try {
    const from = await source.openLog();
    let started = performance.now();
    const snapshot = await lastValueFrom(source.snapshot(from, {}, flow).pipe(filter((item) => item.kind === 'row' && item.event.op === 'r'), toArray()));
    figures.push({ phase: 'snapshot', count: snapshot.length, seconds: (performance.now() - started) / 1000 });

    await insertRange(collection, documents, documents);
    let committed: LogPosition | undefined;
    const remember = tap((item: StreamItem) => {
      if (item.kind === 'commit') committed = item.position;
    });
    started = performance.now();
    // openLog() starts at a cluster time, inclusively: the last document of the initial load comes once more.
    const inserts = await lastValueFrom(source.stream(from, flow).pipe(remember, filter((item) => item.kind === 'change'), take(documents + 1), toArray()));
    figures.push({ phase: 'stream inserts', count: inserts.length, seconds: (performance.now() - started) / 1000 });

    await collection.updateMany({ _id: { $lt: documents } }, { $inc: { amount: 1 } });
    started = performance.now();
    // The stream stopped before the commit of its last event: that insert may come once more, so count updates.
    const updated = filter((item: StreamItem) => item.kind === 'change' && item.event.op === 'u');
    const updates = await lastValueFrom(source.stream(committed!, flow).pipe(updated, take(documents), toArray()));
    figures.push({ phase: 'stream updates (restarted from its token)', count: updates.length, seconds: (performance.now() - started) / 1000 });
  } finally {
    await source.close();
  }
  return figures;
}

/** Through the topology on Kafka: the change topic's record count tells how far the source got. */
async function benchTopology(collection: Collection<Order>): Promise<Figure[]> {
  const figures: Figure[] = [];
  const brokers = env.KAFKA_BROKERS.split(',');
  const pipeline = `bench-mongo-${randomUUID().slice(0, 8)}`;
  const changeTopic = `${pipeline}.bench.changes`;
  const admin = new Kafka({ brokers, clientId: 'bench-admin', logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  const recordsIn = async () => {
    if (!(await admin.listTopics()).includes(changeTopic)) return 0;
    return (await admin.fetchTopicOffsets(changeTopic)).reduce((sum, { high }) => sum + Number(high), 0);
  };
  const runUntil = async (phase: string, count: number, atLeast: number) => {
    const transport = new KafkaTransport({ brokers, clientId: 'bench', logLevel: 'error' });
    const serde = new AvroEventSerde({ registry: ConfluentSchemaRegistry.fromArgs({ host: env.SCHEMA_REGISTRY_URL }), prefix: 'rxcdc-bench' });
    const before = await recordsIn();
    const started = performance.now();
    const running = await new TopologyBuilder({ pipeline, serde })
      .source(new MongoSource({ name: 'bench', url, database, chunkSize: 10_000 }))
      .repartition({ partitions: 4 })
      .build()
      .start(transport);
    let firstRecord: number | undefined;
    for (let records = before; records < atLeast; records = await recordsIn()) {
      if (records > before) firstRecord ??= performance.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ended = performance.now();
    firstRecord ??= ended;
    figures.push({ phase, count, seconds: (ended - started) / 1000, startup: (firstRecord - started) / 1000 });
    await running.stop();
    await transport.close();
  };
  try {
    await runUntil('snapshot → change topic', documents, documents);
    const afterSnapshot = await recordsIn();
    await insertRange(collection, documents, documents);
    // The restart replays the write at the stored cluster time too (inclusive start): at least `documents` more.
    await runUntil('stream inserts → change topic (restarted)', documents, afterSnapshot + documents);
    const afterInserts = await recordsIn();
    await collection.updateMany({ _id: { $lt: documents } }, { $inc: { amount: 1 } });
    await runUntil('stream updates → change topic (restarted)', documents, afterInserts + documents);
  } finally {
    await admin.deleteTopics({ topics: (await admin.listTopics()).filter((topic) => topic.startsWith(`${pipeline}.`)) });
    await admin.disconnect();
    await deleteSubjects(database);
  }
  return figures;
}

/** The bench's subjects (their names hold the random database), so runs leave nothing in the shared registry. */
async function deleteSubjects(containing: string): Promise<void> {
  const registry = env.SCHEMA_REGISTRY_URL;
  const subjects = (await (await fetch(`${registry}/subjects`)).json()) as string[];
  for (const subject of subjects.filter((name) => name.includes(containing))) {
    await fetch(`${registry}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' });
    await fetch(`${registry}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' });
  }
}

const load = () => loadavg().map((average) => average.toFixed(2)).join(' ');
const client = new MongoClient(url);
await client.connect();
const collection = client.db(database).collection<Order>('orders');
try {
  const oplogEntries = await client.db('local').collection('oplog.rs').estimatedDocumentCount();
  console.log(`load average before: ${load()}; the server's oplog holds ${oplogEntries} entries`);
  await insertRange(collection, 0, documents);
  const figures = values.kafka ? await benchTopology(collection) : await benchSource(collection);
  console.log(`MongoDB source${values.kafka ? ' through the topology (Avro, Kafka, repartition running)' : ' alone'}, ${documents} documents`);
  console.log('| phase                                           |    count |      s | of which startup s |    per s |');
  console.log('|-------------------------------------------------|----------|--------|--------------------|----------|');
  for (const { phase, count, seconds, startup } of figures) {
    // With --kafka, per second over the time records were flowing (after the startup), to within the 50 ms polling.
    const flowing = seconds - (startup ?? 0);
    const rate = startup !== undefined && flowing < 0.5 ? 'too few' : String(Math.round(count / flowing));
    console.log(`| ${phase.padEnd(47)} | ${String(count).padStart(8)} | ${seconds.toFixed(2).padStart(6)} | ${(startup?.toFixed(2) ?? '-').padStart(18)} | ${rate.padStart(8)} |`);
  }
  console.log(`load average after: ${load()}`);
} finally {
  await client.db(database).dropDatabase();
  await client.close();
}
