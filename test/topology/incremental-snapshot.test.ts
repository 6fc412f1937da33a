import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { sendSnapshotSignal } from '../../topology/signals.ts';
import { parseNotification, type NotificationRecord } from '../../topology/notifications.ts';
import { topics } from '../../topology/topics.ts';
import { comparePositions } from '../../topology/change-event.ts';
import type { SnapshotMode } from '../../topology/source-runner.ts';
import { FakeDatabase, FakeSource, type FakeSourceOptions } from './support/fake-source.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';
import { changeTopicEvents, lastEventPerKey } from './support/change-topic.ts';

const serde = new JsonSerde();
const CHUNK = 7;

function start(transport: MemoryTransport, pipeline: string, db: FakeDatabase, options: FakeSourceOptions = {}, snapshot: SnapshotMode = 'never', sink = new MemorySink()) {
  const source = new FakeSource('src', db, options);
  const running = new TopologyBuilder({ pipeline, serde }).source(source, { snapshot, chunkSize: CHUNK }).repartition({ partitions: 3 }).sink(sink).build().start(transport);
  return { source, sink, running };
}

function notifications(transport: MemoryTransport, pipeline: string): NotificationRecord[] {
  return transport.records(topics.notifications(pipeline)).map((record) => parseNotification(record.value)!);
}

function seed(db: FakeDatabase, table: string, count: number): void {
  for (let id = 1; id <= count; id++) db.commit([{ op: 'c', table, id, after: { id, v: 0 } }]);
}

/**
 * Updates, deletes and inserts rows of `table` until stopped: the load the snapshot runs under. Given the
 * source, most writes go to the rows of the chunk it reads next, where a stale read would show.
 */
function writeLoad(db: FakeDatabase, table: string, firstNewId: number, source?: FakeSource): { stop(): Promise<void> } {
  let running = true;
  let next = firstNewId;
  const done = (async () => {
    for (let step = 1; running; step++) {
      const rows = db.rows.get(table)!;
      const ids = [...rows.keys()];
      const lastRead = Number(/after (\d+)$/.exec([...(source?.calls ?? [])].reverse().find((call) => call.startsWith('readChunk')) ?? '')?.[1] ?? 0);
      const ahead = lastRead + 1 + (step % CHUNK);
      const id = step % 4 !== 0 && rows.has(ahead) ? ahead : ids[(step * 7919) % ids.length]!;
      if (step % 5 === 0) db.commit([{ op: 'd', table, id }]);
      else if (step % 3 === 0) db.commit([{ op: 'c', table, id: next, after: { id: next++, v: step } }]);
      else db.commit([{ op: 'u', table, id, after: { id, v: step } }]);
      // Bursts of three transactions, then four turns of the event loop (the fake stream reads one
      // transaction per turn): the stream falls up to a burst behind and catches up again.
      if (step % 3 === 0) for (let turn = 0; turn < 4; turn++) await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function finished(transport: MemoryTransport, pipeline: string, id: string): Promise<void> {
  await eventually(`incremental snapshot ${id} finishes`, () => notifications(transport, pipeline).some((n) => n.type === 'incremental-finished' && n.id === id));
}

for (const chunkWindow of [0, 3]) {
  test(`an incremental snapshot under writes: a last-event-per-key consumer ends with the source's rows, and no snapshot row follows a newer change of its row (read window ${chunkWindow} transactions)`, async () => {
    const pipeline = `inc-writes-${chunkWindow}`;
    const db = new FakeDatabase();
    seed(db, 'users', 300);
    const transport = new MemoryTransport();
    const { running, source, sink } = start(transport, pipeline, db, { chunkWindow });
    const topology = await running;
    const load = writeLoad(db, 'users', 1000, source);
    try {
      const signal = await sendSnapshotSignal(transport, pipeline, 0, 'src', ['app.users']);
      // A writer always ahead of the stream would hold every chunk back (it waits for the stream to pass
      // its read): the load stops once a third of the chunks are in, and the rest read a quiet table.
      await eventually('a third of the chunks are in', () => source.calls.filter((call) => call.startsWith('readChunk')).length > 300 / CHUNK / 3);
      await load.stop();
      await finished(transport, pipeline, signal.id);
      await eventually('the stream caught up with the load', () => changeTopicEvents(transport, pipeline).then((events) => events.at(-1)?.source.position === String(db.log.length).padStart(12, '0')));
      const events = await changeTopicEvents(transport, pipeline);
      assert.deepEqual(lastEventPerKey(events, 'users'), db.rows.get('users'));
      const newest = new Map<number, string>();
      for (const event of events) {
        const id = Number(event.key.id);
        const before = newest.get(id);
        assert.ok(before === undefined || comparePositions(before, event.source.position) <= 0, `${event.op} of row ${id} at ${event.source.position} follows a change at ${before}`);
        newest.set(id, event.source.position);
      }
      assert.ok(events.filter((event) => event.op === 'r').length > 0);
      assert.ok(source.calls.filter((call) => call.startsWith('readChunk')).length >= 300 / CHUNK);
      await eventually('the sink holds the source rows', () => sink.rows.size === db.rows.get('users')!.size);
      for (const [id, row] of db.rows.get('users')!) assert.deepEqual(sink.rows.get(`app.users/${JSON.stringify({ id })}`), row);
    } finally {
      await load.stop();
      await topology.stop();
    }
  });
}

test('notifications: requested, accepted (naming tables refused), one per table snapshotted, finished; a request for nothing captured is refused', async () => {
  const pipeline = 'inc-notify';
  const db = new FakeDatabase();
  seed(db, 'users', 10);
  seed(db, 'orders', 20);
  const transport = new MemoryTransport();
  const topology = await start(transport, pipeline, db).running;
  try {
    const refused = await sendSnapshotSignal(transport, pipeline, 0, 'src', ['app.nope']);
    const request = await sendSnapshotSignal(transport, pipeline, 0, 'src', ['app.users', 'app.orders', 'app.gone']);
    await finished(transport, pipeline, request.id);
    const seen = notifications(transport, pipeline);
    assert.deepEqual(
      seen.map((notification) => [notification.type, 'id' in notification ? notification.id : undefined]),
      [
        ['incremental-requested', refused.id],
        ['incremental-refused', refused.id],
        ['incremental-requested', request.id],
        ['incremental-accepted', request.id],
        ['incremental-table-snapshotted', request.id],
        ['incremental-table-snapshotted', request.id],
        ['incremental-finished', request.id],
      ],
    );
    assert.match((seen[1] as { reason: string }).reason, /does not capture app\.nope/);
    assert.deepEqual((seen[3] as { refused: unknown }).refused, [{ table: 'app.gone', reason: 'source src does not capture app.gone' }]);
    assert.deepEqual(
      seen.filter((n) => n.type === 'incremental-table-snapshotted').map((n) => [(n as { table: string }).table, (n as { rows: number }).rows]),
      [
        ['app.users', 10],
        ['app.orders', 20],
      ],
    );
    assert.deepEqual((seen[6] as { tables: string[] }).tables, ['app.users', 'app.orders']);
  } finally {
    await topology.stop();
  }
});

test('a source that fails mid-way resumes its incremental snapshot at its chunk: at most one chunk is read twice', async () => {
  const pipeline = 'inc-resume';
  const db = new FakeDatabase();
  seed(db, 'users', 50);
  const transport = new MemoryTransport();
  const first = await start(transport, pipeline, db, { failChunksAfter: 4 }).running;
  const request = await sendSnapshotSignal(transport, pipeline, 0, 'src', ['app.users']);
  await assert.rejects(first.done, /connection lost during an incremental chunk/);
  const { source, running } = start(transport, pipeline, db);
  const second = await running;
  try {
    await finished(transport, pipeline, request.id);
    assert.match(source.calls.find((call) => call.startsWith('readChunk'))!, /^readChunk app\.users after (21|28)$/);
    const snapshotRows = (await changeTopicEvents(transport, pipeline)).filter((event) => event.op === 'r');
    const distinct = new Set(snapshotRows.map((event) => event.key.id));
    assert.equal(distinct.size, 50);
    assert.ok(snapshotRows.length - distinct.size <= CHUNK, `${snapshotRows.length - distinct.size} rows read twice`);
    assert.equal(notifications(transport, pipeline).filter((n) => n.type === 'incremental-accepted').length, 1, 'the request is taken once');
  } finally {
    await second.stop();
  }
});

test('a table newly captured when the pipeline starts again is snapshotted incrementally; the tables captured before are not read again', async () => {
  const pipeline = 'inc-added';
  const db = new FakeDatabase();
  seed(db, 'users', 30);
  const transport = new MemoryTransport();
  const first = start(transport, pipeline, db, {}, 'initial');
  const topology = await first.running;
  await eventually('the initial snapshot is done', () => notifications(transport, pipeline).some((n) => n.type === 'snapshot-finished'));
  await topology.stop();
  const usersSnapshotRows = async () => (await changeTopicEvents(transport, pipeline)).filter((event) => event.op === 'r' && event.source.table === 'users').length;
  assert.equal(await usersSnapshotRows(), 30);

  seed(db, 'orders', 12);
  const second = start(transport, pipeline, db, {}, 'initial');
  const again = await second.running;
  try {
    await eventually('the new table is snapshotted', () => notifications(transport, pipeline).some((n) => n.type === 'incremental-finished'));
    const orders = (await changeTopicEvents(transport, pipeline)).filter((event) => event.op === 'r' && event.source.table === 'orders');
    assert.equal(orders.length, 12);
    assert.equal(await usersSnapshotRows(), 30);
    assert.deepEqual(second.source.calls.filter((call) => call.startsWith('readChunk')), ['readChunk app.orders after -', 'readChunk app.orders after 7']);
  } finally {
    await again.stop();
  }
});


test('a request left in the token for a table the source no longer captures is refused on start, and the rest goes on', async () => {
  const pipeline = 'inc-dropped';
  const db = new FakeDatabase();
  seed(db, 'users', 10);
  seed(db, 'orders', 10);
  const transport = new MemoryTransport();
  const first = await start(transport, pipeline, db, { failChunksAfter: 1 }).running;
  const request = await sendSnapshotSignal(transport, pipeline, 0, 'src', ['app.users', 'app.orders']);
  await assert.rejects(first.done, /connection lost during an incremental chunk/);
  db.rows.delete('orders');
  const second = await start(transport, pipeline, db).running;
  try {
    await finished(transport, pipeline, request.id);
    const answer = notifications(transport, pipeline).filter((n) => n.type.startsWith('incremental-table') || n.type === 'incremental-finished');
    assert.deepEqual(
      answer.map((n) => [n.type, 'table' in n ? n.table : undefined]),
      [
        ['incremental-table-refused', 'app.orders'],
        ['incremental-table-snapshotted', 'app.users'],
        ['incremental-finished', undefined],
      ],
    );
    assert.match((answer[0] as { reason: string }).reason, /no longer captures app\.orders/);
  } finally {
    await second.stop();
  }
});
