import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopicTokenStore } from '../../topology/token-store.ts';
import { ChangeWriter } from '../../topology/change-writer.ts';
import { FlowControl } from '../../topology/flow-control.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { runSource, type SnapshotMode } from '../../topology/source-runner.ts';
import { topics } from '../../topology/topics.ts';
import { PositionLostError, TokenCommitError } from '../../topology/errors.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { FakeDatabase, FakeSource, type FakeSourceOptions } from './support/fake-source.ts';
import { JournalingTransport } from './support/journaling-transport.ts';
import { eventually } from './support/eventually.ts';

const pipeline = 'p';
const changeTopic = topics.change(pipeline, 'src');

async function setUp(transport: MemoryTransport, exactlyOnce = false) {
  await transport.createTopics([{ name: changeTopic, partitions: 1 }]);
  const tokens = await TopicTokenStore.open(transport, pipeline);
  const producer = await transport.producer(exactlyOnce ? { transactionalId: 'p.src.tx' } : {});
  const writer = new ChangeWriter({ producer, serde: new JsonSerde(), tokens, changeTopic, partitionsOf: () => 1, deadLetterTopic: 'test.dlq', exactlyOnce });
  return { tokens, writer };
}

function run(transport: MemoryTransport, setup: Awaited<ReturnType<typeof setUp>>, source: FakeSource, snapshot: SnapshotMode = 'initial', signal?: AbortSignal) {
  return runSource({ pipeline, connector: source, tokens: setup.tokens, writer: setup.writer, flow: new FlowControl(50), snapshot, maxBatch: 7, signal });
}

function seeded(rows: number): FakeDatabase {
  const db = new FakeDatabase();
  for (let id = 1; id <= rows; id++) db.commit([{ op: 'c', table: 'users', id, after: { id, name: `u${id}` } }]);
  return db;
}

async function events(transport: MemoryTransport): Promise<ChangeEvent[]> {
  return (await new JsonSerde().decode(transport.records(changeTopic))) as ChangeEvent[];
}

test('the snapshot token is acknowledged before the snapshot starts and before the first r event', async () => {
  const journal: string[] = [];
  const transport = new JournalingTransport(journal);
  const setup = await setUp(transport);
  const source = new FakeSource('src', seeded(25), { calls: journal, failSnapshotAfterChunks: 3 });
  await assert.rejects(run(transport, setup, source), /connection lost/);
  assert.deepEqual(journal.slice(0, 4), ['openLog', 'p.tokens tables', 'p.tokens token:snapshot', 'snapshot']);
  assert.ok(journal.indexOf('p.tokens token:snapshot') < journal.indexOf('p.src.changes r'));
});

test('a failing token commit starts no snapshot', async () => {
  const transport = new MemoryTransport();
  const setup = await setUp(transport);
  transport.failWrites(topics.tokens(pipeline), new Error('not enough replicas'));
  const source = new FakeSource('src', seeded(5));
  await assert.rejects(run(transport, setup, source), (error) => error instanceof TokenCommitError && /not enough replicas/.test(error.message));
  assert.deepEqual(source.calls, ['openLog']);
  assert.equal(transport.records(changeTopic).length, 0);
});

test('a failing first token commit starts no snapshot with exactly-once either', async () => {
  const transport = new MemoryTransport();
  const setup = await setUp(transport, true);
  transport.failWrites(topics.tokens(pipeline), new Error('not enough replicas'));
  const source = new FakeSource('src', seeded(5));
  await assert.rejects(run(transport, setup, source), TokenCommitError);
  assert.deepEqual(source.calls, ['openLog']);
});

for (const exactlyOnce of [false, true]) {
  test(`a restarted snapshot resumes after its last finished chunk, then streams (exactly-once: ${exactlyOnce})`, async () => {
    const transport = new MemoryTransport();
    const setup = await setUp(transport, exactlyOnce);
    const db = seeded(35);
    await assert.rejects(run(transport, setup, new FakeSource('src', db, { failSnapshotAfterChunks: 2 })), /connection lost/);
    const interrupted = await setup.tokens.latest('src');
    assert.equal(interrupted?.phase, 'snapshot');
    assert.deepEqual(interrupted?.snapshot, { 'app.users': { done: false, rows: 20, chunks: 2, lastKey: '20' } });

    const again = new FakeSource('src', db);
    const stop = new AbortController();
    const running = run(transport, setup, again, 'initial', stop.signal);
    db.commit([{ op: 'u', table: 'users', id: 3, after: { id: 3, name: 'changed' } }]);
    await eventually('the update is streamed and its token committed', async () => (await setup.tokens.latest('src'))?.position === String(db.log.length).padStart(12, '0'));
    stop.abort();
    await running;

    assert.deepEqual(again.calls, ['snapshot', 'stream']);
    assert.deepEqual(again.snapshotProgress[0], interrupted?.snapshot);
    const read = (await events(transport)).filter((event) => event.op === 'r').map((event) => event.key.id);
    // Rows of the interrupted third chunk were written without a token (at least once); every row is there.
    assert.deepEqual([...new Set(read)].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 35 }, (_, i) => i + 1));
    assert.deepEqual((await events(transport)).at(-1)?.after, { id: 3, name: 'changed' });
  });
}

test('a token is committed only at transaction boundaries, after the events before it', async () => {
  const journal: string[] = [];
  const transport = new JournalingTransport(journal);
  const setup = await setUp(transport);
  const db = new FakeDatabase();
  const stop = new AbortController();
  const running = run(transport, setup, new FakeSource('src', db), 'never', stop.signal);
  await eventually('the streaming token is written', async () => (await setup.tokens.latest('src')) !== undefined);
  // One source transaction larger than a batch (7): it is split, and its token comes after all of it.
  db.commit(Array.from({ length: 16 }, (_, i) => ({ op: 'c' as const, table: 't', id: i, after: { id: i } })));
  await eventually('the transaction is covered by a token', async () => (await setup.tokens.latest('src'))?.position === '000000000001');
  stop.abort();
  await running;
  const tokenAt = journal.lastIndexOf('p.tokens token:streaming');
  assert.equal(journal.filter((entry, i) => entry === 'p.src.changes c' && i < tokenAt).length, 16);
});

test('a restarted stream resumes from its token, and never snapshots with snapshot: never', async () => {
  const transport = new MemoryTransport();
  const setup = await setUp(transport);
  const db = seeded(3);
  for (const changes of [[1, 2], [3, 4]]) {
    const source = new FakeSource('src', db);
    const stop = new AbortController();
    const running = run(transport, setup, source, 'never', stop.signal);
    await eventually('the source streams', () => source.calls.includes('stream'));
    for (const id of changes) db.commit([{ op: 'u', table: 'users', id, after: { id, name: `v${id}` } }]);
    await eventually('streamed', async () => (await setup.tokens.latest('src'))?.position === String(db.log.length).padStart(12, '0'));
    stop.abort();
    await running;
    assert.deepEqual(source.calls, changes[0] === 1 ? ['openLog', 'stream'] : ['stream']);
  }
  assert.deepEqual((await events(transport)).map((event) => `${event.op}${event.key.id}`), ['u1', 'u2', 'u3', 'u4']);
});

async function withLostLog(mode: SnapshotMode, options: FakeSourceOptions = { logLost: true }) {
  const transport = new MemoryTransport();
  const setup = await setUp(transport);
  await setup.tokens.commit({ pipeline, source: 'src', phase: 'streaming', position: '000000000001', resume: {}, writtenAt: 0 });
  const source = new FakeSource('src', seeded(3), options);
  return { result: run(transport, setup, source, mode, AbortSignal.abort()), source };
}

test('a token whose log is gone is a PositionLostError, and a fresh snapshot with when_needed', async () => {
  const lost = await withLostLog('initial');
  await assert.rejects(lost.result, (error) => error instanceof PositionLostError && /when_needed/.test(error.message));
  assert.deepEqual(lost.source.calls, []);

  const needed = await withLostLog('when_needed');
  await needed.result;
  assert.deepEqual(needed.source.calls, ['openLog', 'snapshot']);
});

test('snapshot: always snapshots again although the token is streaming', async () => {
  const always = await withLostLog('always', {});
  await always.result;
  assert.deepEqual(always.source.calls, ['openLog', 'snapshot']);
});
