import { test } from 'node:test';
import { map } from 'rxjs';
import assert from 'node:assert/strict';
import { BoundaryBatcher } from '../../topology/boundary-batcher.ts';
import type { BatchWriter } from '../../topology/change-writer.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { FlowControl } from '../../topology/flow-control.ts';
import { OperatorStage } from '../../topology/operator-stage.ts';
import type { SourceToken } from '../../topology/token.ts';

/** A writer whose writes finish only when the test lets them: the source runs ahead of it meanwhile. */
class HeldWriter implements BatchWriter {
  readonly writes: string[] = [];
  private readonly waiting: Array<() => void> = [];

  write(events: readonly ChangeEvent[], token?: SourceToken): Promise<void> {
    this.writes.push(`${events.length} events${token ? ` + token ${token.position}` : ''}`);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Lets every write finish, the ones it starts included. */
  async drain(batcher: BoundaryBatcher): Promise<void> {
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      next();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await batcher.settled();
  }
}

const event = (id: number): ChangeEvent => ({
  op: 'r',
  key: { id },
  before: null,
  after: { id },
  source: { connector: 'mysql', name: 's', db: 'd', table: 't', position: '0', tsMs: 0, snapshot: true },
  tsMs: 0,
});
const token = (position: string): SourceToken => ({ pipeline: 'p', source: 's', phase: 'snapshot', position, resume: {}, writtenAt: 0 });

function batcher(writer: HeldWriter): BoundaryBatcher {
  return new BoundaryBatcher(writer, new FlowControl(), new OperatorStage([]), 2000, (error) => assert.fail(String(error)), () => assert.fail('no operator refuses'));
}

test('a source far ahead of its writes still gets its tokens written: each batch ends at the latest boundary within a batch', async () => {
  const writer = new HeldWriter();
  const batches = batcher(writer);
  let id = 0;
  // Ten snapshot chunks of 500 rows, read while the first write is still in flight.
  for (let chunk = 1; chunk <= 10; chunk++) {
    for (let row = 0; row < 500; row++) batches.event(event(id++));
    batches.boundary(token(`chunk ${chunk}`));
  }
  await writer.drain(batches);
  assert.deepEqual(writer.writes, ['500 events + token chunk 1', '2000 events + token chunk 5', '2000 events + token chunk 9', '500 events + token chunk 10']);
});

test('a chunk larger than a batch is written in whole batches before its token; events after the last boundary wait for the next one', async () => {
  const writer = new HeldWriter();
  const batches = batcher(writer);
  for (let id = 0; id < 5000; id++) batches.event(event(id));
  batches.boundary(token('big chunk'));
  batches.boundary(token('nothing since'));
  for (let id = 5000; id < 5100; id++) batches.event(event(id));
  await writer.drain(batches);
  assert.deepEqual(writer.writes, ['2000 events', '2000 events', '1000 events + token nothing since']);
});

test('a snapshot end marker goes through the operators of both stages to the repartition topic, with its token; without a repartition stage nowhere', async () => {
  const written: Array<{ events: ChangeEvent[]; token?: string }> = [];
  const writer: BatchWriter = {
    write: async (events, token) => void written.push({ events: [...events], ...(token ? { token: token.position } : {}) }),
  };
  const marker: ChangeEvent = { ...event(0), op: 't', key: {}, after: null };
  const renamed = (suffix: string) => map((e: ChangeEvent) => ({ ...e, source: { ...e.source, table: e.source.table + suffix } }));
  const route = { topic: 'p.repartition', stage: new OperatorStage([{ name: 'after', operator: renamed('-after') }]) };
  const batches = new BoundaryBatcher(writer, new FlowControl(), new OperatorStage([{ name: 'before', operator: renamed('-before') }]), 2000, (error) => assert.fail(String(error)), () => assert.fail('no operator refuses'), route);
  batches.event(event(1));
  batches.marker(marker);
  batches.boundary(token('done'));
  await batches.settled();
  assert.deepEqual(
    written.map(({ events, token }) => ({ token, events: events.map((e) => `${e.op} ${e.source.table} -> ${e.topic ?? 'change topic'}`) })),
    [{ token: 'done', events: ['r t-before -> change topic', 't t-before-after -> p.repartition'] }],
  );

  written.length = 0;
  const captureOnly = new BoundaryBatcher(writer, new FlowControl(), new OperatorStage([]), 2000, (error) => assert.fail(String(error)), () => assert.fail('no operator refuses'));
  captureOnly.event(event(1));
  captureOnly.marker(marker);
  captureOnly.boundary(token('done'));
  await captureOnly.settled();
  assert.deepEqual(written.map(({ events }) => events.map((e) => e.op)), [['r']]);
});
