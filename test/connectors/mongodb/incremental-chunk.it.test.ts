/**
 * Incremental snapshot chunks (connectors/mongodb/incremental-chunk.ts) and what the stream tells the
 * incremental snapshot (StreamCursor.boundary), on the test server while the change streams run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { IncrementalChunk, SnapshotItem, StreamCursor, StreamItem } from '../../../topology/source.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { fromTimestamp, lastPositionAt, mongoResumeOf, parsePosition } from '../../../connectors/mongodb/position.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { Recorder, canonical, changesOf, freshDatabase, lastCommit, rowsOf, seesAll } from './source-harness.ts';

/** An event without what differs between two reads of one document: when it was read, and at which position. */
function readOf(event: ChangeEvent): ChangeEvent {
  return { ...event, tsMs: 0, source: { ...event.source, position: '', tsMs: 0 } };
}

async function readAll(source: MongoSource, collection: string, size: number): Promise<IncrementalChunk[]> {
  const chunks: IncrementalChunk[] = [];
  for (let afterKey: string | undefined; ; ) {
    const chunk = await source.readChunk(collection, afterKey, size);
    assert.ok(chunk, `${collection} exists`);
    chunks.push(chunk);
    if (chunk.done) return chunks;
    afterKey = chunk.lastKey;
  }
}

/** The position of the streamed `op` change of `_id` (canonical Extended JSON). */
function positionOf(items: StreamItem[], op: ChangeEvent['op'], id: string): string {
  const event = changesOf(items).find((change) => change.op === op && change.key._id === id);
  assert.ok(event, `a ${op} change of ${id}`);
  return event.source.position;
}

test('chunks page a collection in _id order across _id types, with the rows and keys of the snapshot', { timeout: 60_000 }, async () => {
  const target = await freshDatabase('mongo_inc_pages');
  // 25 numbers, 10 strings, 7 ObjectIds: three type brackets in _id order, and a last chunk of 2.
  await target.db.collection<{ _id: unknown; v: number }>('mixed').insertMany([
    ...Array.from({ length: 25 }, (_, i) => ({ _id: i, v: i })),
    ...Array.from({ length: 10 }, (_, i) => ({ _id: `s${i}`, v: i })),
    ...Array.from({ length: 7 }, (_, i) => ({ _id: new BSON.ObjectId(), v: i })),
  ]);
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name, chunkSize: 10 });
  try {
    const chunks = await readAll(source, 'mixed', 10);
    assert.deepEqual(
      chunks.map((chunk) => [chunk.rows.length, chunk.done]),
      [
        [10, false],
        [10, false],
        [10, false],
        [10, false],
        [2, true],
      ],
    );
    const snapshot = await new Recorder<SnapshotItem>(source.snapshot(await source.openLog(), {}, new FlowControl())).done();
    assert.deepEqual(
      chunks.flatMap((chunk) => chunk.rows.map(readOf)),
      rowsOf(snapshot).map(readOf),
      'the same r events as the snapshot, in the same order',
    );
    assert.deepEqual(
      chunks.map((chunk) => chunk.lastKey),
      snapshot.flatMap((item) => (item.kind === 'chunkDone' ? [item.progress.lastKey] : [])),
      'each chunk ends where the snapshot chunk of the same size does',
    );
    for (const chunk of chunks) {
      assert.ok(chunk.low <= chunk.high);
      assert.ok(chunk.rows.every((row) => row.source.position === chunk.high));
      assert.deepEqual([chunk.db, chunk.tableName, chunk.schema], [target.name, 'mixed', undefined]);
    }
    const empty = await source.readChunk('mixed', chunks.at(-1)?.lastKey, 10);
    assert.deepEqual([empty?.rows, empty?.lastKey, empty?.done], [[], undefined, true], 'after the last row: an empty chunk, done');
  } finally {
    await source.close();
    await target.drop();
  }
});

test('a write before the read is in the chunk, its change at or before low; a write after it streams after high', { timeout: 60_000 }, async () => {
  const target = await freshDatabase('mongo_inc_window');
  const items = target.db.collection<{ _id: string; v: number }>('items');
  await items.insertOne({ _id: 'a', v: 0 });
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name });
  try {
    const stream = new Recorder<StreamItem>(source.stream(await source.openLog(), new FlowControl()));
    await items.insertOne({ _id: 'b', v: 1 });
    const chunk = await source.readChunk('items', undefined, 10);
    await items.updateOne({ _id: 'a' }, { $set: { v: 2 } });
    await stream.until((items) => changesOf(items).some((event) => event.op === 'u'));
    stream.stop();
    assert.ok(chunk);
    assert.deepEqual(
      chunk.rows.map((row) => row.after?.doc),
      [canonical({ _id: 'a', v: 0 }), canonical({ _id: 'b', v: 1 })],
    );
    assert.ok(positionOf(stream.items, 'c', canonical('b')) <= chunk.low, 'the insert the read saw is at or before low: it drops no row');
    assert.ok(positionOf(stream.items, 'u', canonical('a')) > chunk.high, 'the update after the read comes after the chunk');
  } finally {
    await source.close();
    await target.drop();
  }
});

test('the boundary of an idle stream reaches a chunk\'s high, and moves on past writes the source does not capture', { timeout: 60_000 }, async () => {
  const target = await freshDatabase('mongo_inc_boundary');
  await target.db.createCollection('orders');
  const audit = target.db.collection<{ _id: number }>('audit');
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name, collections: { include: ['orders'] } });
  const cursor: StreamCursor = {};
  const boundary = () => cursor.boundary?.()?.position ?? '';
  try {
    const stream = new Recorder<StreamItem>(source.stream(await source.openLog(), new FlowControl(), cursor));
    const chunk = await source.readChunk('orders', undefined, 10);
    assert.ok(chunk);
    // No write after the read: an idle source's chunk is not held up until something is written.
    await eventually("the boundary at the chunk's high", () => boundary() >= chunk.high);

    await audit.insertOne({ _id: 1 });
    const entry = await target.client.db('local').collection('oplog.rs').findOne({ ns: `${target.name}.audit` });
    assert.ok(entry);
    const auditAt = lastPositionAt(fromTimestamp(entry.ts));
    assert.ok(auditAt > chunk.high);
    await eventually('the boundary past the audit write', () => boundary() >= auditAt);
    const at = cursor.boundary?.();
    stream.stop();
    assert.deepEqual(at?.resume, { startAtOperationTime: parsePosition(at?.position ?? '').time, resumeTokens: {} }, 'orders, with no token yet, restarts at the position');
    assert.deepEqual(stream.items, [], 'the audit write is not captured');
  } finally {
    await source.close();
    await target.drop();
  }
});

test('a collection that is gone reads as undefined', { timeout: 60_000 }, async () => {
  const target = await freshDatabase('mongo_inc_dropped');
  await target.db.collection<{ _id: number }>('gone').insertOne({ _id: 1 });
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name });
  try {
    assert.equal((await source.readChunk('gone', undefined, 10))?.rows.length, 1);
    await target.db.collection('gone').drop();
    assert.equal(await source.readChunk('gone', undefined, 10), undefined);
    assert.equal(await source.readChunk('never', undefined, 10), undefined);
  } finally {
    await source.close();
    await target.drop();
  }
});

test('a collection newly included, from a token written before it was captured, streams from that token on; left out again, it leaves the token', { timeout: 60_000 }, async () => {
  const target = await freshDatabase('mongo_inc_added');
  const orders = target.db.collection<{ _id: number }>('orders');
  const refunds = target.db.collection<{ _id: string }>('refunds');
  await target.db.createCollection('orders');
  const flow = new FlowControl();
  const first = new MongoSource({ name: 'm', url: target.url, database: target.name, collections: { include: ['orders'] } });
  const second = new MongoSource({ name: 'm', url: target.url, database: target.name, collections: { include: ['orders', 'refunds'] } });
  const third = new MongoSource({ name: 'm', url: target.url, database: target.name, collections: { include: ['orders'] } });
  try {
    const running = new Recorder<StreamItem>(first.stream(await first.openLog(), flow));
    await refunds.insertOne({ _id: 'before the token' });
    await orders.insertOne({ _id: 1 });
    await running.until(seesAll([canonical(1)]));
    const stored = lastCommit(running.items);
    running.stop();
    await first.close();

    await refunds.insertOne({ _id: 'while down' });
    assert.equal(await second.canResume({ pipeline: 'p', source: 'm', phase: 'streaming', ...stored, writtenAt: Date.now() }), true);
    const resumed = new Recorder<StreamItem>(second.stream(stored, flow));
    await refunds.insertOne({ _id: 'live' });
    await resumed.until(seesAll([canonical('while down'), canonical('live')]));
    const storedWithRefunds = lastCommit(resumed.items);
    resumed.stop();
    // Earlier writes are the incremental snapshot's: the new stream starts where the token's position is, not
    // where the source first started.
    assert.deepEqual(
      changesOf(resumed.items).map((event) => [event.source.table, event.key._id]),
      [
        ['refunds', canonical('while down')],
        ['refunds', canonical('live')],
      ],
    );
    assert.deepEqual(Object.keys(mongoResumeOf(storedWithRefunds).resumeTokens).sort(), ['orders', 'refunds']);

    // Left out, refunds leaves the token: captured again some day, it starts at the token's position, not at
    // a token of its own the oplog may no longer reach.
    const withoutRefunds = new Recorder<StreamItem>(third.stream(storedWithRefunds, flow));
    await orders.insertOne({ _id: 2 });
    await withoutRefunds.until(seesAll([canonical(2)]));
    withoutRefunds.stop();
    assert.deepEqual(Object.keys(mongoResumeOf(lastCommit(withoutRefunds.items)).resumeTokens), ['orders']);
  } finally {
    await second.close();
    await third.close();
    await target.drop();
  }
});
