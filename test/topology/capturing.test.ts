/**
 * RunningTopology.capturing(): resolves once a source's start position is durable in this process, so a
 * change committed on the source afterwards is captured; rejects when the topology stops or fails first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concat, defer, ignoreElements, type Observable } from 'rxjs';
import { TopologyBuilder, type RunningTopology } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { topics } from '../../topology/topics.ts';
import { CdcError, ConfigError, TokenCommitError, TopologyStoppedError } from '../../topology/errors.ts';
import type { SnapshotMode } from '../../topology/source-runner.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import type { LogPosition, SnapshotItem } from '../../topology/source.ts';
import type { TableSnapshotProgress } from '../../topology/token.ts';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { FakeDatabase, FakeSource } from './support/fake-source.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';
import { changeTopicEvents } from './support/change-topic.ts';
import { latestToken } from './support/token-topic.ts';

const serde = new JsonSerde();
const pipeline = 'capture';

/** A FakeSource whose openLog and snapshot wait until the test lets them go on. */
class HeldSource extends FakeSource {
  constructor(
    db: FakeDatabase,
    private readonly held: { openLog?: Promise<void>; snapshot?: Promise<void> },
  ) {
    super('src', db);
  }

  override async openLog(): Promise<LogPosition> {
    await this.held.openLog;
    return super.openLog();
  }

  override snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl): Observable<SnapshotItem> {
    return concat(defer(() => this.held.snapshot ?? Promise.resolve()).pipe(ignoreElements()), defer(() => super.snapshot(from, progress, flow)));
  }
}

/** A promise and what settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function start(transport: MemoryTransport, source: FakeSource, snapshot: SnapshotMode): Promise<RunningTopology> {
  return new TopologyBuilder({ pipeline, serde }).source(source, { snapshot }).build().start(transport);
}

const insert = (db: FakeDatabase, id: number) => db.commit([{ op: 'c', table: 't', id, after: { id } }]);
const capturedIds = async (transport: MemoryTransport) => (await changeTopicEvents(transport, pipeline)).filter((event) => event.op === 'c').map((event) => Number(event.key.id));

test('snapshot: never: capturing() resolves once the token at the log\'s end is durable; a row committed then is captured, one committed before is not', async () => {
  const db = new FakeDatabase();
  const transport = new MemoryTransport();
  const openLog = gate();
  const running = await start(transport, new HeldSource(db, { openLog: openLog.promise }), 'never');
  try {
    const capturing = running.capturing('src');
    insert(db, 1);
    assert.equal(latestToken(transport, pipeline), undefined, 'no start position before the source opened its log');
    openLog.open();
    await capturing;
    assert.equal(latestToken(transport, pipeline)?.phase, 'streaming');
    insert(db, 2);
    await eventually('row 2 reaches the change topic', async () => (await capturedIds(transport)).includes(2));
    assert.deepEqual(await capturedIds(transport), [2]);
  } finally {
    await running.stop();
  }
});

test('with a snapshot, capturing() resolves once the snapshot token is durable, before the snapshot ends; a row committed during the snapshot is streamed', async () => {
  const db = new FakeDatabase();
  insert(db, 1);
  const transport = new MemoryTransport();
  const snapshot = gate();
  const running = await start(transport, new HeldSource(db, { snapshot: snapshot.promise }), 'initial');
  try {
    await running.capturing();
    assert.equal(latestToken(transport, pipeline)?.phase, 'snapshot');
    assert.equal(running.metrics.sources.get('src')?.phase, 'snapshot');
    insert(db, 2);
    snapshot.open();
    await eventually('row 2 is streamed into the change topic', async () => (await capturedIds(transport)).includes(2));
  } finally {
    await running.stop();
  }
});

test('restarted from its stored token, a source has captured all along: capturing() resolves, and a row committed while it was stopped arrives', async () => {
  const db = new FakeDatabase();
  const transport = new MemoryTransport();
  const first = await start(transport, new FakeSource('src', db), 'never');
  await first.capturing();
  await first.stop();
  insert(db, 1);
  const again = await start(transport, new FakeSource('src', db), 'never');
  try {
    await again.capturing('src');
    await eventually('the row committed while stopped reaches the change topic', async () => (await capturedIds(transport)).includes(1));
  } finally {
    await again.stop();
  }
});

test('a source run by another process: capturing() waits for this process to take it over, or rejects when this process stops first', async () => {
  const db = new FakeDatabase();
  const transport = new MemoryTransport();
  const processes = [await start(transport, new FakeSource('src', db), 'never'), await start(transport, new FakeSource('src', db), 'never'), await start(transport, new FakeSource('src', db), 'never')];
  const owner = processes.find((running) => running.ownedSources.length > 0)!;
  const [leaving, heir] = processes.filter((running) => running !== owner) as [RunningTopology, RunningTopology];
  await owner.capturing();
  const notHere = leaving.capturing('src');
  await leaving.stop();
  await assert.rejects(notHere, (error) => error instanceof TopologyStoppedError && error.code === 'TOPOLOGY_STOPPED' && /pipeline capture stopped before source src began capturing in this process/.test(error.message));

  const takenOver = heir.capturing();
  await owner.stop();
  await takenOver;
  assert.deepEqual(heir.ownedSources, [0]);
  insert(db, 1);
  await eventually('the row reaches the change topic through the heir', async () => (await capturedIds(transport)).includes(1));
  await heir.stop();
});

test('a source that fails before its start position is durable rejects capturing() with the topology\'s error', async () => {
  const transport = new MemoryTransport();
  transport.failWrites(topics.tokens(pipeline), new CdcError('INTERNAL', 'not enough replicas'));
  const running = await start(transport, new FakeSource('src', new FakeDatabase()), 'never');
  const capturing = running.capturing('src');
  const failure = await running.done.then(() => undefined, (error: unknown) => error);
  assert.ok(failure instanceof TokenCommitError, String(failure));
  await assert.rejects(capturing, (error) => error === failure);
  await assert.rejects(running.capturing(), (error) => error === failure);
});

test('capturing() refuses a source the topology does not have, and a process that runs no source', async () => {
  const transport = new MemoryTransport();
  const topology = new TopologyBuilder({ pipeline, serde }).source(new FakeSource('src', new FakeDatabase()), { snapshot: 'never' }).repartition({ partitions: 1 }).sink(new MemorySink()).build();
  const sinksOnly = await topology.start(transport, { only: 'sinks' });
  try {
    await assert.rejects(sinksOnly.capturing('nope'), (error) => error instanceof ConfigError && /pipeline capture has no source named nope \(its sources: src\)/.test(error.message));
    await assert.rejects(sinksOnly.capturing(), (error) => error instanceof ConfigError && /runs no source \(only: 'sinks'\)/.test(error.message));
  } finally {
    await sinksOnly.stop();
  }
});
