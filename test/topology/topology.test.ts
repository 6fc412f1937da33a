import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filter, map, pipe } from 'rxjs';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder, type RunningTopology } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { maskColumns } from '../../topology/operators/mask-columns.ts';
import { routeToTopic } from '../../topology/operators/route-to-topic.ts';
import { composeOperators } from '../../topology/operators/compose-operators.ts';
import { replaySink } from '../../topology/replay.ts';
import { encodeRowKey } from '../../topology/key-encoding.ts';
import { partitionForKey } from '../../topology/murmur2.ts';
import { CdcError } from '../../topology/errors.ts';
import { FakeDatabase, FakeSource } from './support/fake-source.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';
import type { ChangeEvent, Row } from '../../topology/change-event.ts';
import type { EventSerde, RawRecord } from '../../topology/serde.ts';

const serde = new JsonSerde();

/** What a sink holding the database's rows contains (MemorySink's key scheme). */
function expectedState(db: FakeDatabase, map: (table: string, row: Row) => Row = (_, row) => row): Record<string, Row> {
  const rows: Array<[string, Row]> = [];
  for (const [table, byId] of db.rows) for (const [id, row] of byId) rows.push([`app.${table}/${JSON.stringify({ id })}`, map(table, row)]);
  return Object.fromEntries(rows.sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function converged(sink: MemorySink, expected: Record<string, Row>): Promise<void> {
  await eventually(`sink ${sink.name} converges`, () => {
    try {
      assert.deepEqual(sink.state(), expected);
      return true;
    } catch {
      return false;
    }
  });
}

test('user operators run where they are placed, and describe() shows stages, topics, partitions and groups', async () => {
  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 'users', id: 1, after: { id: 1, email: 'a@x', name: 'a' } }]);
  db.commit([{ op: 'c', table: 'audit', id: 1, after: { id: 1, email: 'x@x' } }]);
  const sink = new MemorySink('pg');
  const topology = new TopologyBuilder({ pipeline: 'ops', serde })
    .source(new FakeSource('main', db))
    .through('mask-email', maskColumns(['email']))
    .through('orders-to-team', routeToTopic('team.audit', (event) => event.source.table === 'audit'))
    .repartition({ partitions: 4 })
    .through('no-deletes', filter((event) => event.op !== 'd'))
    .sink(sink)
    .build();
  assert.equal(
    topology.describe().toString(),
    [
      'Topology: pipeline ops (source → change topics: at least once)',
      '  Sub-topology 0: source',
      '    consumer group: ops.sources (owns one source per partition of ops.sources)',
      '    <-- Source: main (mysql, snapshot initial)',
      '    --- Processor: mask-email',
      '    --- Processor: orders-to-team',
      '    --> Topic: ops.main.changes [1 partition]',
      '    --> Topic: team.audit [1 partition]',
      '    --> Topic: ops.repartition [4 partitions]',
      '    --> Topic: ops.tokens [1 partition, compacted]',
      '  Sub-topology 1: repartition (re-key by table + primary key, murmur2)',
      '    consumer group: ops.repartition',
      '    <-- Topic: ops.main.changes [1 partition]',
      '    <-- Topic: team.audit [1 partition]',
      '    --- Processor: no-deletes',
      '    --> Topic: ops.repartition [4 partitions]',
      '    --> Topic: ops.dlq [1 partition]',
      '  Sub-topology 2: sink pg',
      '    consumer group: ops.sink.pg',
      '    <-- Topic: ops.repartition [4 partitions]',
      '    --> Sink: pg',
      '    --> Topic: ops.dlq [1 partition]',
    ].join('\n'),
  );

  const transport = new MemoryTransport();
  const running = await topology.start(transport);
  db.commit([{ op: 'd', table: 'users', id: 1 }]);
  db.commit([{ op: 'c', table: 'users', id: 2, after: { id: 2, email: null, name: 'b' } }]);
  await eventually('the insert of user 2 reaches the sink', () => sink.rows.size === 3);
  await running.stop();
  assert.deepEqual(sink.state(), {
    'app.audit/{"id":1}': { id: 1, email: '***' },
    'app.users/{"id":1}': { id: 1, email: '***', name: 'a' },
    'app.users/{"id":2}': { id: 2, email: null, name: 'b' },
  });
  assert.equal(transport.records('team.audit').length, 1);
  assert.deepEqual(transport.topicSpec('ops.tokens'), { name: 'ops.tokens', partitions: 1, compacted: true });
});

async function runUpdates(keys: number, rounds: number) {
  const db = new FakeDatabase();
  for (let id = 0; id < keys; id++) db.commit([{ op: 'c', table: 't', id, after: { id, version: 0 } }]);
  const sink = new MemorySink('sink');
  const transport = new MemoryTransport({ maxBatch: 13 });
  const topology = new TopologyBuilder({ pipeline: 'order', serde, maxBatch: 11 }).source(new FakeSource('src', db, { chunkSize: 9 })).repartition({ partitions: 8 }).sink(sink).build();
  const running = await topology.start(transport);
  for (let version = 1; version <= rounds; version++) {
    // Transactions touching several keys, interleaving the keys' histories.
    for (let id = 0; id < keys; id += 5) db.commit(Array.from({ length: Math.min(5, keys - id) }, (_, i) => ({ op: 'u' as const, table: 't', id: id + i, after: { id: id + i, version } })));
  }
  await converged(sink, expectedState(db));
  return { db, sink, transport, topology, running };
}

test('per-key order holds through repartition with N=8, each key in its murmur2 partition', async () => {
  const { sink, transport, running } = await runUpdates(60, 20);
  await running.stop();
  const history = (into: Map<number, string[]>, op: string, id: number, version: unknown) => {
    into.set(id, [...(into.get(id) ?? []), `${op}${String(version)}`]);
  };
  // The order the source emitted, as its change topic holds it...
  const emitted = new Map<number, string[]>();
  for (const event of await serde.decode(transport.records('order.src.changes'))) {
    if (event instanceof Error) throw event;
    history(emitted, event.op, Number(event.key.id), event.after!.version);
  }
  // ...is the order each key was applied in, all of a key's changes in its murmur2 partition.
  const applied = new Map<number, string[]>();
  for (const [partition, records] of sink.applied) {
    for (const { event } of records) {
      assert.equal(partition, partitionForKey(encodeRowKey(event), 8), `key ${String(event.key.id)} in partition ${partition}`);
      history(applied, event.op, Number(event.key.id), event.after!.version);
    }
  }
  assert.equal(applied.size, 60);
  assert.deepEqual(applied, emitted);
  assert.equal(new Set(transport.records('order.repartition').map((record) => record.partition)).size, 8, 'all 8 partitions used');
});

/** JsonSerde, counting the records each stage had to decode in full and those it only identified. */
class CountingSerde implements EventSerde {
  private readonly json = new JsonSerde();
  decoded = 0;
  identified = 0;
  encode(topic: string, events: readonly ChangeEvent[]) {
    return this.json.encode(topic, events);
  }
  decode(records: readonly RawRecord[]) {
    this.decoded += records.length;
    return this.json.decode(records);
  }
  identify(records: readonly RawRecord[]) {
    this.identified += records.length;
    return this.json.identify(records);
  }
}

test('with no operator after repartition() the stage forwards the change topic\'s bytes, only identified; with one it decodes', async () => {
  for (const withOperator of [false, true]) {
    const db = new FakeDatabase();
    for (let id = 0; id < 5; id++) db.commit([{ op: 'c', table: 't', id, after: { id } }]);
    const counting = new CountingSerde();
    const transport = new MemoryTransport();
    const builder = new TopologyBuilder({ pipeline: 'fwd', serde: counting }).source(new FakeSource('src', db)).repartition({ partitions: 3 });
    if (withOperator) builder.through('all', filter(() => true));
    const running = await builder.build().start(transport);
    try {
      await eventually('5 records in the repartition topic', () => transport.records('fwd.repartition').length >= 5);
    } finally {
      await running.stop();
    }
    const changes = transport.records('fwd.src.changes').map((record) => record.value!.toString());
    assert.deepEqual(transport.records('fwd.repartition').map((record) => record.value!.toString()).sort(), changes.sort());
    assert.deepEqual([counting.decoded, counting.identified], withOperator ? [5, 0] : [0, 5], withOperator ? 'with an operator' : 'without');
  }
});

test('an operator after repartition() sees each event in full, as the source wrote it to its change topic', async () => {
  const db = new FakeDatabase();
  const seen: ChangeEvent[] = [];
  const transport = new MemoryTransport();
  const running = await new TopologyBuilder({ pipeline: 'full', serde })
    .source(new FakeSource('src', db), { snapshot: 'never' })
    .repartition({ partitions: 3 })
    .through('seen', map((event: ChangeEvent) => (seen.push(event), event)))
    .build()
    .start(transport);
  try {
    // Streamed changes: creates, updates with both images, a delete.
    for (let id = 0; id < 4; id++) db.commit([{ op: 'c', table: 't', id, after: { id, name: `n${id}`, flag: id % 2 === 0 } }]);
    for (let id = 0; id < 4; id++) db.commit([{ op: 'u', table: 't', id, after: { id, name: `m${id}`, flag: null } }]);
    db.commit([{ op: 'd', table: 't', id: 1 }]);
    await eventually('9 events through the operator', () => seen.length >= 9);
  } finally {
    await running.stop();
  }
  const written = (await serde.decode(transport.records('full.src.changes'))) as ChangeEvent[];
  const byPosition = (events: ChangeEvent[]) => [...events].sort((a, b) => a.source.position.localeCompare(b.source.position));
  assert.equal(written.length, 9);
  assert.deepEqual(byPosition(seen), byPosition(written));
  assert.deepEqual(
    byPosition(seen).map(({ op, before, after }) => [op, before?.name ?? null, after?.name ?? null]),
    [...[0, 1, 2, 3].map((id) => ['c', null, `n${id}`]), ...[0, 1, 2, 3].map((id) => ['u', `n${id}`, `m${id}`]), ['d', 'm1', null]],
  );
});

test('a replay from earliest reproduces the same sink state', async () => {
  const { db, sink, transport, topology, running } = await runUpdates(30, 5);
  await running.stop();
  await assert.rejects(
    (async () => {
      const again = await topology.start(transport);
      try {
        await replaySink(transport, 'order', 'sink', { earliest: true });
      } finally {
        await again.stop();
      }
    })(),
    /live member/,
  );
  const offsets = await replaySink(transport, 'order', 'sink', { earliest: true });
  assert.deepEqual(offsets, Array.from({ length: 8 }, (_, partition) => ({ partition, offset: '0' })));
  sink.rows.clear();
  sink.applied.clear();
  const replayed = await topology.start(transport);
  await converged(sink, expectedState(db));
  await replayed.stop();
});

test('a replay to a timestamp starts each partition at the first record at or after it', async () => {
  let now = 1_000;
  const transport = new MemoryTransport({ now: () => now });
  await transport.createTopics([{ name: 'r.repartition', partitions: 2 }]);
  const producer = await transport.producer();
  await producer.send([0, 1, 0].map((partition) => ({ topic: 'r.repartition', partition, key: null, value: Buffer.from('{}') })));
  now = 2_000;
  await producer.send([0, 1].map((partition) => ({ topic: 'r.repartition', partition, key: null, value: Buffer.from('{}') })));
  assert.deepEqual(await replaySink(transport, 'r', 's', { timestamp: 1_500 }), [
    { partition: 0, offset: '2' },
    { partition: 1, offset: '1' },
  ]);
  assert.deepEqual(await transport.committedOffsets('r.sink.s', 'r.repartition'), [
    { partition: 0, offset: '2' },
    { partition: 1, offset: '1' },
  ]);
});

test('undecodable and rejected records go to the dead-letter topic with reason and origin; offsets move on', async () => {
  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 't', id: 1, after: { id: 1 } }]);
  db.commit([{ op: 'c', table: 't', id: 2, after: { id: 2 } }]);
  const sink = new MemorySink('s');
  sink.reject = (record) => (record.event.key.id === 2 ? 'duplicate entry' : undefined);
  const transport = new MemoryTransport();
  const warnings: Array<{ fields: object; message: string }> = [];
  const log = { error() {}, info() {}, debug() {}, warn: (fields: object, message: string) => warnings.push({ fields, message }) };
  const running = await new TopologyBuilder({ pipeline: 'dlq', serde, log }).source(new FakeSource('src', db)).repartition({ partitions: 1 }).sink(sink).build().start(transport);
  // The undecodable record goes after the source's two events, so the offsets below are known.
  await eventually('both events repartitioned', () => transport.records('dlq.repartition').length === 2);
  const producer = await transport.producer();
  await producer.send([{ topic: 'dlq.repartition', partition: 0, key: Buffer.from('k'), value: Buffer.from('not json') }]);
  await eventually('two dead letters', () => transport.records('dlq.dlq').length === 2);
  await eventually('offsets committed past them', async () => (await transport.committedOffsets('dlq.sink.s', 'dlq.repartition'))[0]?.offset === '3');
  await running.stop();
  const letters = transport.records('dlq.dlq').map((record) => record.headers);
  const rejected = letters.find((headers) => headers['cdc.dlq.reason'] === 'duplicate entry');
  assert.deepEqual(rejected, { 'cdc.dlq.stage': 'sink.s', 'cdc.dlq.reason': 'duplicate entry', 'cdc.dlq.topic': 'dlq.repartition', 'cdc.dlq.partition': '0', 'cdc.dlq.offset': '1' });
  const undecodable = letters.find((headers) => headers['cdc.dlq.offset'] === '2');
  assert.match(undecodable!['cdc.dlq.reason']!, /cannot decode dlq.repartition\/0@2/);
  assert.deepEqual(Object.keys(sink.state()), ['app.t/{"id":1}']);
  // Each dead letter is also a warn line: with its table and key when the stage could read them.
  const lines = warnings.filter(({ message }) => message === 'record dead-lettered').map(({ fields }) => fields);
  assert.deepEqual(lines.find((fields) => 'table' in fields), { stage: 'sink.s', table: 'app.t', key: '{"id":2}', reason: 'duplicate entry', from: 'dlq.repartition/0@1' });
  assert.deepEqual(lines.find((fields) => !('table' in fields)), { stage: 'sink.s', reason: undecodable!['cdc.dlq.reason'], from: 'dlq.repartition/0@2' });
  assert.equal(lines.length, 2);
});

test('a retriable sink failure is retried; a fatal one stops the topology with the sink and partition named', async () => {
  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 't', id: 1, after: { id: 1 } }]);
  const sink = new MemorySink('s');
  sink.failures.push(new CdcError('TRANSIENT', 'deadlock', { retriable: true }));
  const transport = new MemoryTransport();
  const topology = new TopologyBuilder({ pipeline: 'fatal', serde }).source(new FakeSource('src', db)).repartition({ partitions: 1 }).sink(sink).build();
  const running = await topology.start(transport);
  await converged(sink, expectedState(db));
  sink.failures.push(new Error('table t does not exist'));
  db.commit([{ op: 'c', table: 't', id: 2, after: { id: 2 } }]);
  await assert.rejects(running.done, /apply to sink s on fatal.repartition\/0 failed: table t does not exist/);
  assert.deepEqual(await transport.committedOffsets('fatal.sink.s', 'fatal.repartition'), [{ partition: 0, offset: '1' }]);
});

test('two processes with one pipeline id split sources and sink partitions; when one stops the other takes all', async () => {
  const dbs = [new FakeDatabase(), new FakeDatabase()];
  const transport = new MemoryTransport();
  const sinks = [new MemorySink('s'), new MemorySink('s')];
  const start = (i: number): Promise<RunningTopology> =>
    new TopologyBuilder({ pipeline: 'scale', serde })
      .source(new FakeSource('a', dbs[0]!))
      .source(new FakeSource('b', dbs[1]!))
      .repartition({ partitions: 4 })
      .sink(sinks[i]!)
      .build()
      .start(transport);
  const first = await start(0);
  const second = await start(1);
  assert.deepEqual([...first.ownedSources, ...second.ownedSources].sort(), [0, 1]);
  assert.equal(first.ownedSources.length, 1);
  for (let id = 0; id < 40; id++) dbs[id % 2]!.commit([{ op: 'c', table: 't', id, after: { id } }]);
  await eventually('both sinks applied their share', () => sinks[0]!.rows.size + sinks[1]!.rows.size === 40 && sinks[0]!.rows.size > 0 && sinks[1]!.rows.size > 0);
  const partitionsOf = (sink: MemorySink) => new Set(sink.applied.keys());
  assert.equal([...partitionsOf(sinks[0]!)].filter((p) => partitionsOf(sinks[1]!).has(p)).length, 0, 'no sink partition applied by both');

  await first.stop();
  assert.deepEqual(second.ownedSources, [0, 1]);
  sinks[1]!.applied.clear();
  for (let id = 40; id < 80; id++) dbs[id % 2]!.commit([{ op: 'c', table: 't', id, after: { id } }]);
  await eventually('the survivor applies everything new', () => [...sinks[1]!.applied.values()].flat().filter((r) => Number(r.event.key.id) >= 40).length === 40);
  assert.equal(partitionsOf(sinks[1]!).size, 4);
  await second.stop();
});

test('without repartition() and sinks the topology only captures: the change topic fills, no repartition topic or stage exists', async () => {
  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 'users', id: 1, after: { id: 1, email: 'a@x', name: 'a' } }]);
  db.commit([{ op: 'c', table: 'users', id: 2, after: { id: 2, email: 'b@x', name: 'b' } }]);
  const transport = new MemoryTransport();
  const topology = new TopologyBuilder({ pipeline: 'capture', serde }).source(new FakeSource('main', db)).build();
  assert.ok(!topology.describe().toString().includes('repartition'), topology.describe().toString());
  const running = await topology.start(transport);
  try {
    await eventually('both rows are in the change topic', () => transport.records('capture.main.changes').length >= 2);
    assert.equal(transport.records('capture.main.changes').length, 2);
    assert.ok(!(await transport.listTopics()).includes('capture.repartition'));
  } finally {
    await running.stop();
  }
  assert.throws(() => new TopologyBuilder({ pipeline: 'capture', serde }).source(new FakeSource('main', db)).sink(new MemorySink('s')).build(), /has sinks but no repartition\(\) stage/);
});

/** An operator that throws for the rows of one id, as user code with a bug would. */
const failsFor = (id: number) =>
  map((event: ChangeEvent) => {
    if (event.key.id === id) throw new Error(`cannot handle row ${id}`);
    return event;
  });

test('a routing operator inside pipe() keeps its topic through composeOperators or { topics }; undeclared, the source stops naming the topic', async () => {
  const toTeam = () => routeToTopic('team.audit', (event) => event.source.table === 'audit');
  const upper = map((event: ChangeEvent) => event);
  for (const [label, place] of [
    ['composeOperators', (builder: TopologyBuilder) => builder.through('route', composeOperators(toTeam(), upper))],
    ['through(..., { topics })', (builder: TopologyBuilder) => builder.through('route', pipe(toTeam(), upper), { topics: ['team.audit'] })],
  ] as const) {
    const db = new FakeDatabase();
    db.commit([{ op: 'c', table: 'audit', id: 1, after: { id: 1 } }]);
    const sink = new MemorySink('s');
    const transport = new MemoryTransport();
    const topology = place(new TopologyBuilder({ pipeline: 'routed', serde }).source(new FakeSource('src', db))).repartition({ partitions: 2 }).sink(sink).build();
    assert.ok(topology.describe().toString().includes('<-- Topic: team.audit'), label);
    const running = await topology.start(transport);
    await converged(sink, expectedState(db));
    await running.stop();
    assert.equal(transport.records('team.audit').length, 1, label);
  }

  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 'audit', id: 1, after: { id: 1 } }]);
  const transport = new MemoryTransport();
  const running = await new TopologyBuilder({ pipeline: 'lost', serde })
    .source(new FakeSource('src', db))
    .through('route', pipe(toTeam(), upper))
    .build()
    .start(transport);
  await assert.rejects(running.done, /routed an event to topic team.audit, which no operator declared: pass \{ topics: \['team.audit'\] \} to through\(\)/);
  assert.throws(() => new TopologyBuilder({ pipeline: 'late', serde }).source(new FakeSource('src', db)).repartition({ partitions: 1 }).through('route', toTeam()), /place it before repartition\(\)/);
});

test("an operator that throws stops the pipeline by default, naming it, and its event is written nowhere", async () => {
  const db = new FakeDatabase();
  db.commit([{ op: 'c', table: 't', id: 1, after: { id: 1 } }]);
  db.commit([{ op: 'c', table: 't', id: 2, after: { id: 2 } }]);
  const transport = new MemoryTransport();
  const running = await new TopologyBuilder({ pipeline: 'stops', serde }).source(new FakeSource('src', db)).through('buggy', failsFor(2)).build().start(transport);
  await assert.rejects(running.done, (error: unknown) => error instanceof CdcError && error.code === 'OPERATOR_FAILED' && /operator buggy failed: cannot handle row 2/.test(error.message));
  const written = (await serde.decode(transport.records('stops.src.changes'))).map((event) => (event as ChangeEvent).key.id);
  assert.ok(!written.includes(2), `row 2 was written: ${written.join(',')}`);
  assert.equal(transport.records('stops.dlq').length, 0);
});

test("onError: 'dead-letter' sends the event to the dead-letter topic with the operator and its error, before and after repartition, and the stream goes on", async () => {
  const db = new FakeDatabase();
  for (let id = 1; id <= 4; id++) db.commit([{ op: 'c', table: 't', id, after: { id } }]);
  const sink = new MemorySink('s');
  const transport = new MemoryTransport();
  const running = await new TopologyBuilder({ pipeline: 'refuse', serde })
    .source(new FakeSource('src', db))
    .through('before', failsFor(2), { onError: 'dead-letter' })
    .repartition({ partitions: 1 })
    .through('after', failsFor(3), { onError: 'dead-letter' })
    .sink(sink)
    .build()
    .start(transport);
  await eventually('rows 1 and 4 applied, two dead letters', () => sink.rows.size === 2 && transport.records('refuse.dlq').length === 2);
  db.commit([{ op: 'c', table: 't', id: 5, after: { id: 5 } }]);
  await eventually('a later row still flows', () => sink.rows.size === 3);
  await running.stop();
  assert.deepEqual(Object.keys(sink.state()), ['app.t/{"id":1}', 'app.t/{"id":4}', 'app.t/{"id":5}']);
  const [atSource, afterRepartition] = transport.records('refuse.dlq');
  assert.deepEqual(atSource!.headers, { 'cdc.dlq.stage': 'source:operator before', 'cdc.dlq.reason': 'operator before failed: cannot handle row 2', 'cdc.dlq.source': 'fake' }); // the event's source.name (FakeSource's)
  assert.deepEqual(((await serde.decode([atSource!]))[0] as ChangeEvent).after, { id: 2 });
  assert.equal(afterRepartition!.headers['cdc.dlq.stage'], 'repartition:operator after');
  assert.equal(afterRepartition!.headers['cdc.dlq.reason'], 'operator after failed: cannot handle row 3');
  assert.equal(afterRepartition!.headers['cdc.dlq.topic'], 'refuse.src.changes');
});
