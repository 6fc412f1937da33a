/**
 * replayDeadLetters on the broker-free transport: each dead letter enters the topology again at the stage
 * that refused it (the operators from there on run again, then the sinks that take its table), what fails
 * again goes back with its new stage and reason, and a letter that a later copy replays is left to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filter, map } from 'rxjs';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import { replayDeadLetters } from '../../topology/dead-letter-replay.ts';
import { readDeadLetter } from '../../topology/dead-letter.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { FakeDatabase, FakeSource } from './support/fake-source.ts';
import { MemorySink } from './support/memory-sink.ts';
import { eventually } from './support/eventually.ts';

const serde = new JsonSerde();

test('dead letters of every stage are replayed from that stage on, through the sinks that take their table; what fails again goes back', async () => {
  const db = new FakeDatabase();
  for (let id = 1; id <= 4; id++) db.commit([{ op: 'c', table: 't', id, after: { id } }]);
  /** Ids the operators cannot handle yet: the bug a user fixes before replaying. */
  const broken = new Set([2, 3]);
  const failsWhileBroken = (id: number) =>
    map((event: ChangeEvent) => {
      if (event.key.id === id && broken.has(id)) throw new Error(`cannot handle row ${id}`);
      return event;
    });
  /** Until widened, sink a's target refuses row 4. */
  let narrow = true;
  const a = new MemorySink('a');
  a.reject = (record) => (record.event.key.id === 4 && narrow ? 'value too long' : undefined);
  const b = new MemorySink('b');
  const topology = new TopologyBuilder({ pipeline: 'redo', serde })
    .source(new FakeSource('src', db))
    .through('before', failsWhileBroken(2), { onError: 'dead-letter' })
    .repartition({ partitions: 1 })
    .through('after', failsWhileBroken(3), { onError: 'dead-letter' })
    .through('stamp', map((event: ChangeEvent) => ({ ...event, after: event.after && { ...event.after, stamped: true } })))
    .sink(a)
    .sink(b, { name: 'only other', operator: filter((event: ChangeEvent) => event.source.table === 'other') })
    .build();
  const transport = new MemoryTransport();
  const running = await topology.start(transport);
  await eventually('row 1 applied, three dead letters', () => a.rows.size === 1 && transport.records('redo.dlq').length === 3);
  await running.stop();
  const stages = () => transport.records('redo.dlq').map((record) => readDeadLetter(record).stage);
  assert.deepEqual(stages(), ['source:operator before', 'repartition:operator after', 'sink.a']);

  // Row 3's operator is still broken: that letter fails again, the others apply (the operators after theirs run).
  broken.delete(2);
  narrow = false;
  const first = await replayDeadLetters({ transport, route: topology.deadLetterRoute(), selection: {} });
  assert.deepEqual(first, { letters: 3, applied: 2, skipped: 0, failed: 1, dropped: 0, unroutable: 0 });
  assert.deepEqual(a.state()['app.t/{"id":2}'], { id: 2, stamped: true });
  assert.deepEqual(b.state(), {}, 'b takes no row of app.t');
  const copy = readDeadLetter(transport.records('redo.dlq')[3]!);
  assert.deepEqual({ stage: copy.stage, reason: copy.reason, replayOf: copy.replayOf, origin: copy.origin }, {
    stage: 'repartition:operator after',
    reason: 'operator after failed: cannot handle row 3',
    replayOf: '0:1',
    origin: readDeadLetter(transport.records('redo.dlq')[1]!).origin,
  });

  // Fixed: the copy stands for the first letter of row 3, which is not replayed twice.
  broken.clear();
  const second = await replayDeadLetters({ transport, route: topology.deadLetterRoute(), selection: {} });
  assert.deepEqual(second, { letters: 3, applied: 3, skipped: 0, failed: 0, dropped: 0, unroutable: 0 });
  assert.deepEqual(a.state(), {
    'app.t/{"id":1}': { id: 1, stamped: true },
    'app.t/{"id":2}': { id: 2, stamped: true },
    'app.t/{"id":3}': { id: 3, stamped: true },
    'app.t/{"id":4}': { id: 4, stamped: true },
  });
  assert.equal(transport.records('redo.dlq').length, 4);

  // --sink b: the sink's own letters (none) and those refused before the sinks, which b's filter drops.
  assert.deepEqual(await replayDeadLetters({ transport, route: topology.deadLetterRoute(), selection: {}, sink: 'b' }), {
    letters: 2,
    applied: 0,
    skipped: 0,
    failed: 0,
    dropped: 2,
    unroutable: 0,
  });
  await assert.rejects(replayDeadLetters({ transport, route: topology.deadLetterRoute(), selection: { offsets: [{ partition: 0, offset: '9' }] } }), /redo\.dlq has no record at 0:9/);
});
