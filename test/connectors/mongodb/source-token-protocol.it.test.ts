import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { LogPosition, SnapshotItem, StreamItem } from '../../../topology/source.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { Recorder, applyInOrder, canonical, changesOf, collectionState, freshDatabase, lastCommit, rowsOf, seesAll } from './source-harness.ts';

test('writes made after openLog() returned, before and while the snapshot runs, all reach stream(from)', { timeout: 120_000 }, async () => {
  const target = await freshDatabase('mongo_src_protocol');
  const people = target.db.collection<{ _id: number; name: string; n?: number }>('people');
  await people.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, name: `p${i}` })));
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name, chunkSize: 10 });
  try {
    await source.check();
    const from = await source.openLog();
    // Before the snapshot: the writes the PeerDB case loses when the token is taken after the load.
    await people.insertOne({ _id: 1000, name: 'before snapshot' });
    await people.updateOne({ _id: 3 }, { $set: { name: 'changed before snapshot' } });
    await people.deleteOne({ _id: 4 });
    const flow = new FlowControl();
    const snapshot = new Recorder<SnapshotItem>(source.snapshot(from, {}, flow));
    await snapshot.until((items) => items.some((item) => item.kind === 'chunkDone'));
    // While the snapshot runs.
    await people.insertOne({ _id: 1001, name: 'during snapshot' });
    await people.updateOne({ _id: 40 }, { $set: { name: 'changed during snapshot' }, $inc: { n: 1 } });
    const snapshotItems = await snapshot.done();
    assert.ok(rowsOf(snapshotItems).every((event) => event.op === 'r' && event.source.position === from.position && event.source.snapshot));

    const stream = new Recorder<StreamItem>(source.stream(from, flow));
    const expectedIds = [1000, 3, 4, 1001, 40].map((id) => canonical(id));
    await stream.until(seesAll(expectedIds));
    stream.stop();
    const events = changesOf(stream.items);
    // startAtOperationTime is inclusive: the write at the start cluster time itself (the last of insertMany) comes again.
    const startTime = from.position.slice(0, 21);
    const afterStart = events.filter((event) => !event.source.position.startsWith(startTime));
    assert.ok(events.length - afterStart.length <= 1);
    assert.deepEqual(
      afterStart.map((event) => [event.op, event.key._id]),
      [
        ['c', canonical(1000)],
        ['u', canonical(3)],
        ['d', canonical(4)],
        ['c', canonical(1001)],
        ['u', canonical(40)],
      ],
    );
    assert.ok(events.every((event) => event.source.position > from.position), 'every streamed event is newer than the snapshot position');
    const converged = applyInOrder(events, applyInOrder(rowsOf(snapshotItems)));
    assert.deepEqual(converged, await collectionState(target.db, 'people'));
  } finally {
    await source.close();
    await target.drop();
  }
});

test('a stream restarted from its last committed position loses nothing written while it was down', { timeout: 120_000 }, async () => {
  const target = await freshDatabase('mongo_src_restart');
  const items = target.db.collection<{ _id: string; v: number }>('items');
  await items.insertMany([{ _id: 'a', v: 0 }, { _id: 'b', v: 0 }]);
  const flow = new FlowControl();
  const first = new MongoSource({ name: 'm', url: target.url, database: target.name });
  const second = new MongoSource({ name: 'm', url: target.url, database: target.name });
  try {
    const from = await first.openLog();
    const snapshotRows = rowsOf(await new Recorder<SnapshotItem>(first.snapshot(from, {}, flow)).done());
    const running = new Recorder<StreamItem>(first.stream(from, flow));
    await items.insertOne({ _id: 'c', v: 0 });
    await items.updateOne({ _id: 'a' }, { $set: { v: 1 } });
    await running.until(seesAll([canonical('c'), canonical('a')]));
    const stored: LogPosition = lastCommit(running.items);
    running.stop();
    await first.close();

    // Down: more writes, of every kind, including a replace.
    await items.updateOne({ _id: 'b' }, { $inc: { v: 5 } });
    await items.insertOne({ _id: 'd', v: 0 });
    await items.replaceOne({ _id: 'c' }, { v: 7 });
    await items.deleteOne({ _id: 'a' });
    await items.insertOne({ _id: 'e', v: 0 });

    assert.equal(await second.canResume({ pipeline: 'p', source: 'm', phase: 'streaming', ...stored, writtenAt: Date.now() }), true);
    const resumed = new Recorder<StreamItem>(second.stream(stored, flow));
    await resumed.until(seesAll(['b', 'd', 'c', 'a', 'e'].map((id) => canonical(id))));
    resumed.stop();
    const events = [...changesOf(running.items), ...changesOf(resumed.items)];
    assert.deepEqual(applyInOrder(events, applyInOrder(snapshotRows)), await collectionState(target.db, 'items'));
    assert.deepEqual(
      changesOf(resumed.items).map((event) => [event.op, event.key._id]),
      [
        ['u', canonical('b')],
        ['c', canonical('d')],
        ['u', canonical('c')],
        ['d', canonical('a')],
        ['c', canonical('e')],
      ],
      'the resumed stream starts right after the stored token',
    );
  } finally {
    await second.close();
    await target.drop();
  }
});

test('a paused FlowControl stops the stream pulling from its cursor until it resumes', { timeout: 120_000 }, async () => {
  const target = await freshDatabase('mongo_src_flow');
  const logs = target.db.collection<{ _id: number }>('logs');
  await logs.insertOne({ _id: -1 });
  const flow = new FlowControl(3, 1);
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name });
  try {
    const from = await source.openLog();
    await logs.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
    flow.acquire(3);
    const stream = new Recorder<StreamItem>(source.stream(from, flow));
    // Paused before the first event: the first change is emitted, then nothing until released.
    await stream.until((items) => changesOf(items).length >= 1);
    const seenWhilePaused = changesOf(stream.items).length;
    // Anything still pulled would arrive behind one more server round trip: a write and its event mark the point.
    const probe = new Recorder<StreamItem>(source.stream(from, new FlowControl()));
    await probe.until((items) => changesOf(items).length >= 20);
    probe.stop();
    assert.equal(changesOf(stream.items).length, seenWhilePaused, 'no event is pulled while paused');
    flow.release(3);
    await stream.until((items) => changesOf(items).length === 20);
    stream.stop();
    assert.equal(seenWhilePaused, 1);
  } finally {
    await source.close();
    await target.drop();
  }
});
