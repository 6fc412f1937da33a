// First, before anything loads kafkajs: KafkaJS as the product loads it, with its fast path.
import { ConfigResourceTypes } from '../../topology/transports/kafka/kafkajs.ts';
import { kafkaJsFastPath, type KafkaTransport } from '../../topology/transports/kafka.ts';
import { after, test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { TopicTokenStore } from '../../topology/token-store.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { encodeRowKey } from '../../topology/key-encoding.ts';
import { partitionForKey } from '../../topology/murmur2.ts';
import type { ConsumedRecord } from '../../topology/transport.ts';
import type { ChangeEvent, Row } from '../../topology/change-event.ts';
import type { SourceToken } from '../../topology/token.ts';
import { FakeDatabase, FakeSource } from './support/fake-source.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';
import { brokers, deletePipelineTopics, killStrayProcesses, PipelineProcess, trackedKafkaTransports, uniquePipeline, withAdmin } from './fixtures/kafka-kit.ts';
import { finalRows } from './fixtures/numbered-source.ts';
import { readApplied, sinkState } from './fixtures/file-sink.ts';
import type { ProcessConfig } from './fixtures/pipeline-process.ts';

const serde = new JsonSerde();

const pipelines: string[] = [];
const pipeline = (name: string) => {
  const id = uniquePipeline(name);
  pipelines.push(id);
  return id;
};
const transports = trackedKafkaTransports();
const kafkaTransport = () => transports.open();
after(async () => {
  await killStrayProcesses();
  await transports.closeAll();
  for (const id of pipelines) await deletePipelineTopics(id);
});

const token = (pipelineId: string, position: string): SourceToken => ({ pipeline: pipelineId, source: 'src', phase: 'streaming', position, resume: {}, writtenAt: 0 });

test('the token topic is compacted, and after a restart latest() returns the last committed token', { timeout: 60_000 }, async () => {
  const id = pipeline('tokens');
  const first = kafkaTransport();
  const tokens = await TopicTokenStore.open(first, id);
  assert.equal(await tokens.latest('src'), undefined);
  for (const position of ['1', '2', '3']) await tokens.commit(token(id, position));
  await tokens.close();
  await first.close();

  const configs = await withAdmin((admin) => admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: `${id}.tokens`, configNames: ['cleanup.policy'] }] }));
  assert.equal(configs.resources[0]!.configEntries[0]!.configValue, 'compact');

  const restarted = kafkaTransport();
  const reopened = await TopicTokenStore.open(restarted, id);
  assert.equal((await reopened.latest('src'))?.position, '3');
  assert.equal(await reopened.latest('other'), undefined);
  await reopened.close();
  await restarted.close();
});

/** Runs fake source → change topic → repartition (8) → memory sink on Kafka through `rounds` rounds of updates to `keys` rows. */
async function runUpdatesOnKafka(id: string, options: { exactlyOnce: boolean }) {
  const db = new FakeDatabase();
  const keys = 40;
  for (let key = 0; key < keys; key++) db.commit([{ op: 'c', table: 't', id: key, after: { id: key, version: 0 } }]);
  const sink = new MemorySink('sink');
  const transport = kafkaTransport();
  const running = await new TopologyBuilder({ pipeline: id, serde, exactlyOnce: options.exactlyOnce, maxBatch: 50 })
    .source(new FakeSource('src', db, { chunkSize: 7 }))
    .repartition({ partitions: 8 })
    .sink(sink)
    .build()
    .start(transport);
  for (let version = 1; version <= 10; version++) {
    // Transactions touching several keys, interleaving the keys' histories.
    for (let key = 0; key < keys; key += 4) db.commit(Array.from({ length: 4 }, (_, i) => ({ op: 'u' as const, table: 't', id: key + i, after: { id: key + i, version } })));
  }
  await converged(sink, expectedRows(db));
  await running.stop();
  return { db, sink, transport };
}

function expectedRows(db: FakeDatabase): Record<string, Row> {
  const rows: Array<[string, Row]> = [...db.rows.get('t')!].map(([key, row]) => [`app.t/${JSON.stringify({ id: key })}`, row]);
  return Object.fromEntries(rows.sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function converged(sink: MemorySink, expected: Record<string, Row>): Promise<void> {
  await eventually(
    `sink ${sink.name} converges`,
    () => {
      try {
        assert.deepEqual(sink.state(), expected);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
  );
}

async function readTopic(transport: KafkaTransport, topic: string): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  await transport.readToEnd(topic, (record) => records.push(record));
  return records;
}

test('the whole topology over Kafka keeps per-key order through repartition with 8 partitions', { timeout: 90_000 }, async () => {
  const id = pipeline('order');
  const { sink, transport } = await runUpdatesOnKafka(id, { exactlyOnce: false });
  const history = (into: Map<number, string[]>, event: ChangeEvent) => {
    const key = Number(event.key.id);
    into.set(key, [...(into.get(key) ?? []), `${event.op}${String(event.after?.version)}`]);
  };
  // The order the source wrote each key in, as its change topic holds it...
  const written = new Map<number, string[]>();
  for (const event of await serde.decode(await readTopic(transport, `${id}.src.changes`))) {
    if (event instanceof Error) throw event;
    history(written, event);
  }
  // ...is the order the sink applied it in, each key in its murmur2 partition.
  const applied = new Map<number, string[]>();
  for (const [partition, records] of sink.applied) {
    for (const { event } of records) {
      assert.equal(partition, partitionForKey(encodeRowKey(event), 8), `key ${String(event.key.id)} in partition ${partition}`);
      history(applied, event);
    }
  }
  assert.equal(applied.size, 40);
  assert.deepEqual(applied, written);
  assert.equal(sink.applied.size, 8, 'all 8 partitions used');
  await transport.close();
});

test('exactly-once: events and tokens are written in Kafka transactions and the sink converges', { timeout: 90_000 }, async () => {
  const id = pipeline('eos');
  const { db, transport } = await runUpdatesOnKafka(id, { exactlyOnce: true });
  // Every change event and token came from transactions: the topics hold commit markers, so their end
  // offsets lie beyond the records a read_committed reader gets.
  const changes = await readTopic(transport, `${id}.src.changes`);
  const ends = await withAdmin((admin) => admin.fetchTopicOffsets(`${id}.src.changes`));
  assert.ok(Number(ends[0]!.high) > changes.length, `${ends[0]!.high} offsets for ${changes.length} records: no transaction markers`);
  const tokens = await TopicTokenStore.open(transport, id);
  assert.equal((await tokens.latest('src'))?.position, String(db.log.length).padStart(12, '0'));
  await tokens.close();
  await transport.close();
});

test('with the KafkaJS fast path, records of every size, with and without keys, values and headers, come back from the broker as they were sent, in order', { timeout: 60_000 }, async () => {
  assert.deepEqual(kafkaJsFastPath(), { active: true }, 'KafkaJS was loaded through the product');
  const id = pipeline('roundtrip');
  const topic = `${id}.changes`;
  const transport = kafkaTransport();
  await transport.createTopics([{ name: topic, partitions: 3 }]);
  const sizes = [0, 1, 63, 64, 127, 128, 8191, 8192, 20_000];
  const sent = Array.from({ length: 600 }, (_, i) => ({
    topic,
    partition: i % 3,
    key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 11 === 0 ? null : Buffer.alloc(sizes[i % sizes.length]!, i),
    ...(i % 5 === 0 ? { headers: { op: `u${i}`, source: 'é' } } : {}),
  }));
  for (const transactionalId of [undefined, `${id}.tx`]) {
    const producer = await transport.producer(transactionalId === undefined ? {} : { transactionalId });
    // One send of many records per partition, then sends of one.
    await producer.send(sent.slice(0, 500));
    for (const record of sent.slice(500)) await producer.send([record]);
    await producer.close();
  }
  const received = await readTopic(transport, topic);
  const view = (records: readonly { partition: number; key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }[]) =>
    records.map(({ partition, key, value, headers }) => [partition, key?.toString('hex') ?? null, value?.toString('hex') ?? null, headers ?? {}]);
  for (let partition = 0; partition < 3; partition++) {
    const inPartition = (records: ReturnType<typeof view>) => records.filter(([p]) => p === partition);
    const expected = inPartition(view(sent));
    assert.deepEqual(inPartition(view(received)), [...expected, ...expected], `partition ${partition}`);
  }
  // Offsets count up from 0 in each partition; the transactional half leaves commit markers between.
  for (let partition = 0; partition < 3; partition++) {
    const offsets = received.filter((record) => record.partition === partition).map((record) => Number(record.offset));
    assert.deepEqual(offsets.slice(0, 200), Array.from({ length: 200 }, (_, i) => i));
    assert.ok(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!));
  }
  await transport.close();
});

test('a read_committed reader never sees the records of an aborted transaction', { timeout: 60_000 }, async () => {
  const id = pipeline('abort');
  const topic = `${id}.changes`;
  const transport = kafkaTransport();
  await transport.createTopics([{ name: topic, partitions: 2 }]);
  const producer = await transport.producer({ transactionalId: `${id}.tx` });
  const record = (partition: number, value: string | Buffer) => ({ topic, partition, key: null, value: Buffer.from(value) });
  await producer.send([record(0, 'committed 1')]);
  // Partition 0 takes its record; partition 1 refuses one over the broker's message.max.bytes, so the
  // transaction, already holding partition 0's record, is aborted.
  await assert.rejects(producer.send([record(0, 'aborted'), record(1, Buffer.alloc(2_000_000))]), /larger than the max message size/);
  await producer.send([record(0, 'committed 2')]);
  await producer.close();

  // KafkaJS's admin answers the last stable offset: once the coordinator has written the last commit
  // marker it is 6 (committed 1, its marker, aborted, its abort marker, committed 2, its marker) where
  // without the aborted record and its marker there would be 4.
  await eventually('the last transaction is decided', async () => (await withAdmin((admin) => admin.fetchTopicOffsets(topic))).find((end) => end.partition === 0)!.high === '6', 30_000);
  const values = (await readTopic(transport, topic)).map((consumed) => consumed.value!.toString());
  assert.deepEqual(values, ['committed 1', 'committed 2']);

  const seen: string[] = [];
  const consumer = await transport.consumer({
    groupId: `${id}.reader`,
    topics: [topic],
    fromBeginning: true,
    eachBatch: async (batch) => {
      for (const consumed of batch.records) seen.push(consumed.value!.toString());
    },
  });
  await eventually('the reader consumed partition 0 and committed', async () => seen.length === 2 && (await transport.committedOffsets(`${id}.reader`, topic))[0]?.offset !== undefined, 30_000);
  await consumer.stop();
  assert.deepEqual(seen, ['committed 1', 'committed 2']);
  await transport.close();
});

const log = { eventsPerTransaction: 5, keys: 37 };

function processConfig(id: string, sinkFile: string, extra: Partial<ProcessConfig> = {}): ProcessConfig {
  return { ...log, brokers, pipeline: id, partitions: 4, sinkFile, sessionTimeoutMs: 6_000, ...extra };
}

/** No event of transactions [0, transactions) is missing from the sink files, and the table they make is the source's. */
async function sinkConverged(files: readonly string[], transactions: number): Promise<void> {
  const expected = finalRows(log, transactions);
  let missing = -1;
  await eventually(
    `every event of ${transactions} transactions reaches the sink`,
    () => {
      const applied = readApplied(files);
      const events = new Set(applied.map((line) => `${line.txn}/${line.seq}`));
      missing = transactions * log.eventsPerTransaction - events.size;
      if (missing > 0) return false;
      assert.deepEqual(sinkState(applied), expected);
      return true;
    },
    60_000,
  );
}

test('SIGKILL between a batch and its token commit, three times: after restarts no event is lost and the sink converges', { timeout: 120_000 }, async () => {
  const id = pipeline('kill');
  const dir = mkdtempSync(join(tmpdir(), 'cdc-kill-'));
  const transactions = 300;
  const files: string[] = [];
  const killedBatches: Array<[number, number]> = [];
  for (const killAfterBatches of [2, 5, 3]) {
    files.push(join(dir, `sink-${files.length}.jsonl`));
    // Small writes, so every start has many batches to be killed after.
    const child = new PipelineProcess(processConfig(id, files.at(-1)!, { killAfterBatches, maxBatch: 50 }));
    child.release(transactions);
    const [first, last] = await child.until('the source acknowledges a batch and holds its token back', () => {
      const line = child.lines.find((said) => said.startsWith('kill-point '));
      return line?.split(' ').slice(1).map(Number);
    });
    child.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    killedBatches.push([first!, last!]);
  }
  files.push(join(dir, `sink-${files.length}.jsonl`));
  const last = new PipelineProcess(processConfig(id, files.at(-1)!));
  last.release(transactions);
  await sinkConverged(files, transactions);
  last.kill('SIGTERM');
  assert.deepEqual(await last.exited, { code: 0, signal: null }, last.errors);

  // Each killed batch was acknowledged but its token never committed: the next start resumed from the
  // token before it and wrote the batch again.
  const transport = kafkaTransport();
  const written = new Map<string, number>();
  for (const record of await readTopic(transport, `${id}.numbers.changes`)) {
    const { txn, seq } = (JSON.parse(record.value!.toString()) as { after: { txn: number; seq: number } }).after;
    written.set(`${txn}/${seq}`, (written.get(`${txn}/${seq}`) ?? 0) + 1);
  }
  for (const [first, lastTxn] of killedBatches) {
    for (let txn = first; txn <= lastTxn; txn++) assert.ok(written.get(`${txn}/0`)! >= 2, `transaction ${txn} of a killed batch was written again`);
  }
});

test('two processes with one pipeline id split the sink partitions; after one is SIGKILLed the other takes them all and the sink converges', { timeout: 120_000 }, async () => {
  const id = pipeline('scale');
  const dir = mkdtempSync(join(tmpdir(), 'cdc-scale-'));
  const files = [join(dir, 'sink-a.jsonl'), join(dir, 'sink-b.jsonl')];
  const sinkGroup = `${id}.sink.file`;
  const sourceGroup = `${id}.sources`;
  const processes = files.map((file) => new PipelineProcess(processConfig(id, file, { partitions: 8 })));
  const [a, b] = processes as [PipelineProcess, PipelineProcess];
  const sinkPartitions = (child: PipelineProcess) => child.assignments.get(sinkGroup) ?? [];
  // Each process reports its assignments on stdout; a rebalance may pass through uneven ones first.
  await eventually('both processes own sink partitions, 8 between them', () => sinkPartitions(a).length > 0 && sinkPartitions(b).length > 0 && sinkPartitions(a).length + sinkPartitions(b).length === 8, 60_000);
  assert.deepEqual([...sinkPartitions(a), ...sinkPartitions(b)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const child of processes) child.release(100);
  await sinkConverged(files, 100);

  // Kill the process that runs the source, so the source moves as well as the sink partitions.
  const owner = processes.find((child) => child.assignments.get(sourceGroup)?.includes(0))!;
  const survivor = owner === a ? b : a;
  owner.kill('SIGKILL');
  await survivor.until('the survivor owns every sink partition and the source', () =>
    sinkPartitions(survivor).length === 8 && survivor.assignments.get(sourceGroup)?.includes(0) ? true : undefined,
  );
  survivor.release(200);
  await sinkConverged(files, 200);
  survivor.kill('SIGTERM');
  assert.deepEqual(await survivor.exited, { code: 0, signal: null }, survivor.errors);
});
