/**
 * Topology.requestSnapshot and the notification follower under it, on the MemoryTransport with a FakeSource:
 * the follower reads every notification written after it started, the request resolves with the source's
 * answer (accepted, finished, refused), and without a process running the source it times out saying so,
 * the request then being taken when the source starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder, type Topology } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { followNotifications, notificationTopicSpec, parseNotification, TopicNotifier, type Notification, type NotificationRecord } from '../../topology/notifications.ts';
import { ConfigError, PositionLostError } from '../../topology/errors.ts';
import { silentLogger } from '../../topology/log.ts';
import { topics } from '../../topology/topics.ts';
import type { ConsumerOptions, Consumer } from '../../topology/transport.ts';
import { FakeDatabase, FakeSource } from './support/fake-source.ts';
import { eventually } from './support/eventually.ts';

const serde = new JsonSerde();

/** Tables a and b of three rows each. */
function seeded(): FakeDatabase {
  const db = new FakeDatabase();
  for (const table of ['a', 'b']) for (let id = 1; id <= 3; id++) db.commit([{ op: 'c', table, id, after: { id, name: `${table}${id}` } }]);
  return db;
}

function topologyOf(pipeline: string, ...sources: FakeSource[]): Topology {
  const builder = new TopologyBuilder({ pipeline, serde });
  for (const source of sources) builder.source(source, { chunkSize: 2 });
  return builder.build();
}

/** Writes one notification as a source does, and waits until it is written. */
async function notify(transport: MemoryTransport, pipeline: string, notification: Notification): Promise<void> {
  const notifier = await TopicNotifier.open(transport, pipeline, silentLogger);
  notifier.notify('main', notification);
  await notifier.close();
}

/** A MemoryTransport that runs `whileJoining` as a consumer joins its group, before it is assigned anything. */
class SlowToJoin extends MemoryTransport {
  whileJoining: () => Promise<void> = async () => {};

  override async consumer(options: ConsumerOptions): Promise<Consumer> {
    await this.whileJoining();
    return super.consumer(options);
  }
}

test('a follower reads every notification written after it started, also while it joins its group, and none written before', async () => {
  const transport = new SlowToJoin();
  await transport.createTopics([notificationTopicSpec('f')]);
  await notify(transport, 'f', { type: 'snapshot-started', tables: ['app.a'] });
  transport.whileJoining = () => notify(transport, 'f', { type: 'incremental-requested', id: 'r1', tables: ['app.a'] });
  const read: NotificationRecord[] = [];
  const follower = await followNotifications(transport, 'f', 'test', (notification) => read.push(notification));
  const producer = await transport.producer();
  await producer.send([{ topic: topics.notifications('f'), partition: 0, key: null, value: Buffer.from('not a notification') }]);
  await notify(transport, 'f', { type: 'incremental-accepted', id: 'r1', tables: ['app.a'], refused: [] });
  await eventually('the follower reads the notifications written after it started', () => read.length >= 2);
  await follower.stop();
  assert.deepEqual(
    read.map(({ type, pipeline, source }) => [type, pipeline, source]),
    [
      ['incremental-requested', 'f', 'main'],
      ['incremental-accepted', 'f', 'main'],
    ],
  );
});

test('a request resolves with the answer: accepted with the tables the source refused, finished with the tables snapshotted', async () => {
  const transport = new MemoryTransport();
  const topology = topologyOf('answers', new FakeSource('main', seeded()));
  const running = await topology.start(transport);
  try {
    const accepted = await topology.requestSnapshot(transport, 'main', ['app.a', 'app.nope', 'app.a']);
    assert.equal(accepted.status, 'accepted');
    assert.deepEqual(accepted.request.tables, ['app.a', 'app.nope'], 'each table once');
    assert.deepEqual(accepted, { status: 'accepted', request: accepted.request, tables: ['app.a'], refused: [{ table: 'app.nope', reason: 'source main does not capture app.nope' }] });

    const told: NotificationRecord[] = [];
    const finished = await topology.requestSnapshot(transport, 'main', ['app.b'], { wait: 'finished', onNotification: (notification) => told.push(notification) });
    assert.deepEqual(finished, { status: 'finished', request: finished.request, tables: ['app.b'], refused: [] });
    assert.deepEqual(
      told.map((notification) => notification.type),
      ['incremental-requested', 'incremental-accepted', 'incremental-table-snapshotted', 'incremental-finished'],
    );
    assert.ok(told.every((notification) => 'id' in notification && notification.id === finished.request.id && notification.source === 'main'));
    const snapshotted = told[2] as Extract<NotificationRecord, { type: 'incremental-table-snapshotted' }>;
    assert.deepEqual([snapshotted.table, snapshotted.rows, snapshotted.chunks], ['app.b', 3, 2], 'chunks of the source chunkSize');
  } finally {
    await running.stop();
  }
});

test('a request none of whose tables the source captures resolves as refused, with the reason', async () => {
  const transport = new MemoryTransport();
  const topology = topologyOf('refusals', new FakeSource('main', seeded()));
  const running = await topology.start(transport);
  try {
    const refused = await topology.requestSnapshot(transport, 'main', ['app.nope', 'shop.x'], { wait: 'finished' });
    assert.deepEqual(refused, { status: 'refused', request: refused.request, reason: 'source main does not capture app.nope, shop.x (it captures app.a, app.b)' });
  } finally {
    await running.stop();
  }
});

test('with no process running the source, a request times out saying so, and is taken when the source starts', async () => {
  const transport = new MemoryTransport();
  const topology = topologyOf('late', new FakeSource('other', seeded()), new FakeSource('main', seeded()));
  const result = await topology.requestSnapshot(transport, 'main', ['app.a'], { timeoutMs: 50 });
  assert.deepEqual(result, {
    status: 'timed-out',
    request: result.request,
    message: 'no process running source main answered within 0.05 s; the request stays on late.sources and is taken when the source starts',
  });
  assert.equal(transport.records(topics.sourceControl('late'), 1).length, 1, "on the source's partition of the control topic");
  const running = await topology.start(transport);
  try {
    await eventually('the source accepts the request once it starts', () =>
      transport.records(topics.notifications('late')).some((record) => {
        const notification = parseNotification(record.value);
        return notification?.type === 'incremental-accepted' && notification.id === result.request.id;
      }),
    );
  } finally {
    await running.stop();
  }
});

test('a source that took the request but did not answer in time is told apart from one nobody runs', async () => {
  const transport = new MemoryTransport();
  let release = () => {};
  const stalled = new Promise<void>((resolve) => (release = resolve));
  class Stalling extends FakeSource {
    stall = false;
    override async tables(): Promise<string[]> {
      if (this.stall) await stalled;
      return super.tables();
    }
  }
  const source = new Stalling('main', seeded());
  const topology = topologyOf('slow', source);
  const running = await topology.start(transport);
  try {
    await eventually('the source streams', () => source.calls.includes('stream'));
    source.stall = true;
    const result = await topology.requestSnapshot(transport, 'main', ['app.a'], { timeoutMs: 50 });
    assert.equal(result.status, 'timed-out');
    assert.equal(
      (result as { message: string }).message,
      `source main took request ${result.request.id} but had not answered it within 0.05 s; it goes on, and its notifications come on slow.notifications`,
    );
  } finally {
    release();
    await running.stop();
  }
});

test('wait none resolves once the request is on the control topic; a bad source, table list or timeout is a ConfigError', async () => {
  const transport = new MemoryTransport();
  const topology = topologyOf('checks', new FakeSource('main', seeded()), new FakeSource('other', seeded()));
  const sent = await topology.requestSnapshot(transport, 'other', ['app.b'], { wait: 'none' });
  assert.equal(sent.status, 'sent');
  const [record] = transport.records(topics.sourceControl('checks'), 1);
  assert.deepEqual(JSON.parse(record!.value!.toString()), sent.request);
  assert.deepEqual([sent.request.type, sent.request.source, sent.request.tables], ['snapshot', 'other', ['app.b']]);

  const cases: Array<[() => Promise<unknown>, RegExp]> = [
    [() => topology.requestSnapshot(transport, 'nope', ['app.a']), /^pipeline checks has no source named nope \(its sources: main, other\)$/],
    [() => topology.requestSnapshot(transport, 'main', []), /^a snapshot request names one or more tables of source main, got \[\]$/],
    [() => topology.requestSnapshot(transport, 'main', ['app.a'], { timeoutMs: 0 }), /^requestSnapshot: timeoutMs must be a positive number of ms, got 0$/],
  ];
  for (const [call, message] of cases) await assert.rejects(call, (error: unknown) => error instanceof ConfigError && message.test(error.message));
});

test('a request waiting for a source that fails before it can take requests (its log is gone) does not keep the pipeline from stopping with that error', { timeout: 30_000 }, async () => {
  const transport = new MemoryTransport();
  const db = seeded();
  const before = new FakeSource('main', db);
  const first = await topologyOf('lost', before).start(transport);
  await eventually('the source streams', () => before.calls.includes('stream'));
  await first.stop();
  const topology = topologyOf('lost', new FakeSource('main', db, { logLost: true }));
  await topology.requestSnapshot(transport, 'main', ['app.a'], { wait: 'none' });
  const running = await topology.start(transport);
  await assert.rejects(running.done, (error) => error instanceof PositionLostError);
  await running.stop();
});
