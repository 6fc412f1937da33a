import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TopologyBuilder, type RunningTopology } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { groups, topics } from '../../topology/topics.ts';
import { ConfigError } from '../../topology/errors.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import type { SourceToken } from '../../topology/token.ts';
import type { SnapshotWork, SnapshotWorkDone } from '../../topology/spread-snapshot.ts';
import type { MemoryTransport } from '../../topology/transports/memory.ts';
import { FakeDatabase, FakeSource, type FakeSourceOptions } from './support/fake-source.ts';
import { JournalingTransport } from './support/journaling-transport.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';
import { changeTopicEvents, lastEventPerKey } from './support/change-topic.ts';
import { latestToken } from './support/token-topic.ts';

const serde = new JsonSerde();
const ROWS = 100;
const RANGE = 10;
const PARTITIONS = 3;

function seeded(): FakeDatabase {
  const db = new FakeDatabase();
  for (let id = 1; id <= ROWS; id++) db.commit([{ op: 'c', table: 'users', id, after: { id, v: 0 } }]);
  return db;
}

/** One process of pipeline `pipeline`: its own FakeSource over the shared database, the snapshot spread. */
function start(transport: MemoryTransport, pipeline: string, db: FakeDatabase, options: FakeSourceOptions = {}): { source: FakeSource; running: Promise<RunningTopology> } {
  const source = new FakeSource('src', db, options);
  const running = new TopologyBuilder({ pipeline, serde }).source(source, { chunkSize: RANGE, spread: { parallelism: 2 } }).repartition({ partitions: PARTITIONS }).sink(new MemorySink()).build().start(transport);
  return { source, running };
}

/** Resolves once two processes are in the work group (and from then on at once, whatever happens to them). */
function bothJoined(transport: MemoryTransport, pipeline: string): () => Promise<void> {
  let joined: Promise<void> | undefined;
  return () => (joined ??= eventually('two workers', async () => (await transport.groupMembers(groups.snapshotWorkers(pipeline))) === 2));
}

function json<T>(transport: MemoryTransport, topic: string): T[] {
  return transport.records(topic).map((record) => JSON.parse(record.value!.toString()) as T);
}

const rangeReads = (source: FakeSource) => source.calls.filter((call) => call.startsWith('readChunk')).length;

/** The whole table arrived, the end marker is on the repartition topic once, and the source streams. */
async function assertWhole(transport: MemoryTransport, pipeline: string, db: FakeDatabase): Promise<void> {
  await eventually('the source streams', () => latestToken(transport, pipeline)?.phase === 'streaming');
  const events = await changeTopicEvents(transport, pipeline);
  const snapshotted = new Set(events.filter((event) => event.op === 'r').map((event) => Number(event.key.id)));
  const missing = [...db.rows.get('users')!.keys()].filter((id) => !snapshotted.has(id));
  assert.deepEqual(missing, [], 'every row is in the change topic as an r event');
  const snapshotPosition = json<SourceToken>(transport, topics.tokens(pipeline)).find((token) => token.phase === 'snapshot')!.position;
  assert.ok(events.filter((event) => event.op === 'r').every((event) => event.source.position === snapshotPosition), 'r events carry the snapshot position');
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const markers = transport.records(topics.repartition(pipeline), partition).filter((record) => (JSON.parse(record.value!.toString()) as ChangeEvent).op === 't');
    assert.equal(markers.length, 1, `one end marker in partition ${partition} of the repartition topic`);
  }
  assert.equal(events.filter((event) => event.op === 't').length, 0, 'no end marker in the change topic');
  await eventually('the changes made during the snapshot are streamed', async () => {
    const consumed = lastEventPerKey(await changeTopicEvents(transport, pipeline), 'users');
    return JSON.stringify([...consumed].sort(([a], [b]) => a - b)) === JSON.stringify([...db.rows.get('users')!].sort(([a], [b]) => a - b));
  });
}

test('two processes share the ranges of a spread snapshot; the end marker and the streaming token come after every range is done', async () => {
  const pipeline = 'spread-two';
  const db = seeded();
  const journal: string[] = [];
  const transport = new JournalingTransport(journal);
  // The first process holds its reads until the second has joined the work group, so both get ranges.
  const first = start(transport, pipeline, db, { chunkGate: bothJoined(transport, pipeline) });
  const a = await first.running;
  const second = start(transport, pipeline, db);
  const b = await second.running;
  try {
    db.commit([{ op: 'u', table: 'users', id: 5, after: { id: 5, v: 1 } }]);
    db.commit([{ op: 'd', table: 'users', id: 6 }]);
    await assertWhole(transport, pipeline, db);
    assert.ok(rangeReads(first.source) > 0 && rangeReads(second.source) > 0, `both processes read ranges (${rangeReads(first.source)}, ${rangeReads(second.source)})`);
    assert.equal(second.source.calls.includes('stream') || first.source.calls.includes('stream'), true);

    const plan = latestToken(transport, pipeline)!.snapshot!['app.users']!.spread!;
    // A bound at every RANGE-th key, and the last range open-ended (empty here).
    assert.equal(plan.ranges, ROWS / RANGE + 1);
    const done = json<SnapshotWorkDone>(transport, topics.snapshotDone(pipeline)).filter((record) => record.snapshot === plan.id);
    assert.deepEqual([...new Set(done.map((record) => record.index))].sort((x, y) => x - y), [...Array(plan.ranges).keys()]);
    // In ack order: every done record of the plan, then the end marker, then the streaming token.
    const lastDone = journal.lastIndexOf(`${topics.snapshotDone(pipeline)} token:undefined`);
    const marker = journal.indexOf(`${topics.repartition(pipeline)} t`);
    const streaming = journal.indexOf(`${topics.tokens(pipeline)} token:streaming`);
    assert.ok(lastDone < marker && marker < streaming, `done ${lastDone}, marker ${marker}, streaming ${streaming}`);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a range whose reader dies mid-way is read by another process; nothing is lost', async () => {
  const pipeline = 'spread-redeliver';
  const db = seeded();
  const journal: string[] = [];
  const transport = new JournalingTransport(journal);
  const first = start(transport, pipeline, db, { chunkGate: bothJoined(transport, pipeline) });
  const a = await first.running;
  // The second process loses its connection at its third read: it stops, its ranges not done are handed over.
  const second = start(transport, pipeline, db, { failChunksAfter: 2 });
  const b = await second.running;
  try {
    await assert.rejects(b.done, /connection lost/);
    await assertWhole(transport, pipeline, db);
    assert.ok(rangeReads(second.source) >= 3, 'the second process read ranges before it died');
    const plan = latestToken(transport, pipeline)!.snapshot!['app.users']!.spread!;
    const doneBy = json<SnapshotWorkDone>(transport, topics.snapshotDone(pipeline)).filter((record) => record.snapshot === plan.id);
    assert.equal(new Set(doneBy.map((record) => record.index)).size, plan.ranges);
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('when the owner dies, the process taking the source over waits for the published ranges instead of splitting the table again', async () => {
  const pipeline = 'spread-owner';
  const db = seeded();
  const transport = new JournalingTransport([]);
  // The owner's worker fails at its fourth read, once the plan is in a durable token: the whole process stops.
  const planned = () => eventually('the plan in the token', () => latestToken(transport, pipeline)?.snapshot?.['app.users']?.spread !== undefined);
  const first = start(transport, pipeline, db, { chunkGate: planned, failChunksAfter: 3 });
  const a = await first.running;
  await assert.rejects(a.done, /connection lost/);
  const plan = latestToken(transport, pipeline)!.snapshot!['app.users']!.spread!;

  const second = start(transport, pipeline, db);
  const b = await second.running;
  try {
    await assertWhole(transport, pipeline, db);
    const final = latestToken(transport, pipeline)!.snapshot!['app.users']!;
    assert.deepEqual(final.spread, plan, 'the same plan');
    assert.equal(final.rows, ROWS);
    assert.equal(json<SnapshotWork>(transport, topics.snapshotWork(pipeline)).length, plan.ranges, 'no range published twice');
    assert.ok(rangeReads(second.source) > 0);
  } finally {
    await b.stop();
  }
});

test('an owner whose source is handed over while it splits a table publishes nothing: the table is split and its ranges published once', async () => {
  const pipeline = 'spread-handover';
  const db = seeded();
  const transport = new JournalingTransport([]);
  // The first split waits until the second process has joined: its join takes the source from the owner mid-split.
  let splitReached!: () => void;
  const reached = new Promise<void>((resolve) => (splitReached = resolve));
  let releaseSplit!: () => void;
  const held = new Promise<void>((resolve) => (releaseSplit = resolve));
  let splits = 0;
  const first = start(transport, pipeline, db, { splitGate: () => (++splits === 1 ? (splitReached(), held) : Promise.resolve()) });
  const a = await first.running;
  await reached;
  // Resolves once the group has rebalanced: the owner's source stopped, and started again where the group put it.
  const b = await start(transport, pipeline, db).running;
  releaseSplit();
  try {
    await assertWhole(transport, pipeline, db);
    const plan = latestToken(transport, pipeline)!.snapshot!['app.users']!.spread!;
    const work = json<SnapshotWork>(transport, topics.snapshotWork(pipeline));
    assert.deepEqual([...new Set(work.map((range) => range.snapshot))], [plan.id], 'only the plan the token records is published');
    assert.equal(work.length, plan.ranges, 'each of its ranges once');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('a source that cannot split its tables cannot spread its snapshot', () => {
  const source = new FakeSource('src', new FakeDatabase());
  Object.defineProperty(source, 'splitTable', { value: undefined });
  assert.throws(() => new TopologyBuilder({ pipeline: 'p', serde }).source(source, { spread: {} }), (error) => error instanceof ConfigError && /cannot spread its snapshot/.test(error.message));
});

test('the work and done topics exist only in a pipeline with a spread source, and describe() shows them', () => {
  const names = (spread: boolean) => {
    const topology = new TopologyBuilder({ pipeline: 'p', serde }).source(new FakeSource('src', new FakeDatabase()), spread ? { spread: {} } : {}).build();
    return { specs: topology.topicSpecs().map((spec) => spec.name), description: topology.describe().toString() };
  };
  const plain = names(false);
  assert.ok(!plain.specs.includes(topics.snapshotWork('p')) && !plain.specs.includes(topics.snapshotDone('p')));
  assert.doesNotMatch(plain.description, /snapshot-work/);
  const spread = names(true);
  assert.ok(spread.specs.includes(topics.snapshotWork('p')) && spread.specs.includes(topics.snapshotDone('p')));
  assert.match(spread.description, /--> Topic: p\.snapshot-work \[12 partitions\]/);
  assert.match(spread.description, /--> Topic: p\.snapshot-done \[1 partition, compacted\]/);
});
