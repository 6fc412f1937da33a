import { test } from 'node:test';
import assert from 'node:assert/strict';
import { snapshotMarks } from '../../support/snapshot-items.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { SnapshotItem, StreamItem } from '../../../topology/source.ts';
import type { TableSnapshotProgress } from '../../../topology/token.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { insertOrders, type Order } from './cli-pipeline.ts';
import { Recorder, applyInOrder, canonical, changesOf, collectionState, freshDatabase, rowsOf } from './source-harness.ts';

test('a snapshot resumed from progress.lastKey reads only the chunks not finished, across _id types', { timeout: 120_000 }, async () => {
  const target = await freshDatabase('mongo_src_chunks');
  const mixed = target.db.collection<{ _id: unknown }>('mixed');
  // 25 numbers, 10 strings, 5 ObjectIds: three type brackets in _id order.
  const ids: unknown[] = [
    ...Array.from({ length: 25 }, (_, i) => i),
    ...Array.from({ length: 10 }, (_, i) => `s${i}`),
  ];
  await mixed.insertMany(ids.map((_id) => ({ _id })));
  const { BSON } = await import('mongodb');
  await mixed.insertMany(Array.from({ length: 5 }, () => ({ _id: new BSON.ObjectId() })));
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name, chunkSize: 10 });
  try {
    assert.deepEqual(await source.estimateRows(await source.tables()), { mixed: 40 }, 'the estimate behind the progress bar');
    const from = await source.openLog();
    const flow = new FlowControl();
    const full = await new Recorder<SnapshotItem>(source.snapshot(from, {}, flow)).done();
    const chunks = full.flatMap((item) => (item.kind === 'chunkDone' ? [item.progress] : []));
    assert.deepEqual(
      chunks.map((progress) => [progress.chunks, progress.rows, progress.done]),
      [
        [1, 10, false],
        [2, 20, false],
        [3, 30, false],
        [4, 40, false],
        [4, 40, true],
      ],
    );
    assert.equal(new Set(rowsOf(full).map((event) => event.key._id)).size, 40);
    // The collection's truncate at the snapshot's position follows its last document, before the progress that marks it done.
    assert.deepEqual(snapshotMarks(full, 'mixed').slice(-3), ['chunk', `end t ${from.position}`, 'done']);

    // A restart after the second chunk: the first 20 documents are not read again.
    const afterTwo = chunks[1] as TableSnapshotProgress;
    const resumed = await new Recorder<SnapshotItem>(source.snapshot(from, { mixed: afterTwo }, flow)).done();
    assert.deepEqual(
      rowsOf(resumed).map((event) => event.key._id),
      rowsOf(full).slice(20).map((event) => event.key._id),
    );
    const resumedChunks = resumed.flatMap((item) => (item.kind === 'chunkDone' ? [item.progress] : []));
    assert.deepEqual(resumedChunks.at(-1), chunks.at(-1), 'the resumed snapshot ends where the full one did');
    assert.equal(resumedChunks.filter((progress) => progress.chunks > afterTwo.chunks).length - 1, 2, 'two more chunks read, then the end found');
    const finished = await new Recorder<SnapshotItem>(source.snapshot(from, { mixed: { ...afterTwo, done: true } }, flow)).done();
    assert.equal(finished.length, 0, 'a finished collection is not read again');
  } finally {
    await source.close();
    await target.drop();
  }
});

test('200k documents snapshot while inserts and updates run, then the stream converges to the collection', { timeout: 600_000 }, async () => {
  const target = await freshDatabase('mongo_src_200k');
  const orders = target.db.collection<Order>('orders');
  const total = 200_000;
  await insertOrders(orders, total);
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name, chunkSize: 5000, parallelism: 2 });
  try {
    const from = await source.openLog();
    const flow = new FlowControl();
    const snapshot = new Recorder<SnapshotItem>(source.snapshot(from, {}, flow));
    let writes = 0;
    const writer = (async () => {
      // Writes run until the snapshot has finished, touching rows before and after its moving chunk.
      for (let round = 0; !snapshot.items.some((item) => item.kind === 'chunkDone' && item.progress.done) || round < 20; round++) {
        await orders.insertOne({ _id: total + round, v: round, pad: 'new' });
        await orders.updateOne({ _id: (round * 7919) % total }, { $inc: { v: 1 } });
        await orders.updateOne({ _id: total - 1 - round }, { $set: { pad: `late ${round}` } });
        writes += 3;
      }
    })();
    const snapshotItems = await snapshot.done();
    await writer;
    const marker = total * 10;
    await orders.insertOne({ _id: marker, v: -1, pad: 'end' });
    const stream = new Recorder<StreamItem>(source.stream(from, flow));
    await stream.until((items) => changesOf(items).some((event) => event.key._id === canonical(marker)));
    stream.stop();
    assert.equal(rowsOf(snapshotItems).length >= total, true);
    assert.ok(changesOf(stream.items).length >= writes + 1);
    const converged = applyInOrder(changesOf(stream.items), applyInOrder(rowsOf(snapshotItems)));
    assert.deepEqual(converged, await collectionState(target.db, 'orders'));
  } finally {
    await source.close();
    await target.drop();
  }
});
