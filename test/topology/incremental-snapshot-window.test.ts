/**
 * The window of an incremental snapshot chunk runs from its read's `low` to the moment the chunk is emitted,
 * not only to its `high`: a change streamed before the chunk goes in must take its row out of the chunk
 * whatever its position, or the chunk's older row would follow it. Three ways the stream passes `high`
 * first: it streams on while the read's result is on its way; a MySQL stream yields no boundary for
 * transactions of tables it does not capture, so the first boundary at or after `high` may be the end of a
 * later captured transaction; and a chunk read while the one before it is being written waits until that
 * one is durable (so that changes streamed meanwhile wait behind one chunk only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalSnapshot } from '../../topology/incremental-snapshot.ts';
import type { IncrementalChunk, SourceConnector } from '../../topology/source.ts';
import { changeEvent } from '../../topology/testing/change-event.ts';

const at = (index: number) => String(index).padStart(12, '0');
const row = (id: number, name: string, position: number) => changeEvent({ op: 'r', key: { id }, after: { id, name }, source: { position: at(position) } });
const update = (id: number, name: string, position: number) => changeEvent({ op: 'u', key: { id }, after: { id, name }, source: { position: at(position), snapshot: false } });

/** Chunk reads of app.t whose results the test hands over when it wants; the first one read at `low` = `high` = 5. */
function deferredRead() {
  let deliver!: (chunk: IncrementalChunk) => void;
  const connector = {
    name: 'test',
    connector: 'mysql',
    readChunk: () => new Promise<IncrementalChunk>((resolve) => (deliver = resolve)),
  } as unknown as SourceConnector;
  const chunk: IncrementalChunk = { rows: [row(1, 'old', 5), row(2, 'old', 5)], lastKey: '2', done: false, low: at(5), high: at(5), db: 'app', tableName: 't' };
  const snapshot = new IncrementalSnapshot({
    connector,
    chunkSize: 2,
    requests: [{ id: 'r1', table: 'app.t', reason: 'requested', requestedAt: 0, rows: 0, chunks: 0 }],
    onChunkRead: () => {},
    onTableRefused: () => assert.fail('nothing is refused'),
    onError: (error) => assert.fail(String(error)),
  });
  snapshot.readNext();
  return { snapshot, deliver: async (read = chunk) => (deliver(read), await Promise.resolve()) };
}

test('a change streamed past high while the read was on its way takes its row out of the chunk', async () => {
  const { snapshot, deliver } = deferredRead();
  snapshot.observe(update(1, 'new', 6));
  await deliver();
  const emitted = snapshot.emitAt(at(6));
  assert.deepEqual(emitted?.rows.map((event) => event.key), [{ id: 2 }]);
});

test('a change past high streamed before the first boundary at or after high takes its row out of the chunk', async () => {
  const { snapshot, deliver } = deferredRead();
  await deliver();
  // Transactions of other tables up to position 6 yield no boundary; the next captured one changes row 1.
  snapshot.observe(update(1, 'new', 7));
  const emitted = snapshot.emitAt(at(7));
  assert.deepEqual(emitted?.rows.map((event) => event.key), [{ id: 2 }]);
});

test('a chunk read while the one before it is being written goes in once that one is durable, without the rows changed meanwhile', async () => {
  const { snapshot, deliver } = deferredRead();
  await deliver();
  assert.ok(snapshot.emitAt(at(5)), 'the first chunk goes in at its high');
  snapshot.readNext();
  await deliver({ rows: [row(3, 'old', 6), row(4, 'old', 6)], lastKey: '4', done: false, low: at(6), high: at(6), db: 'app', tableName: 't' });
  assert.equal(snapshot.waiting, false, 'the second chunk waits for the first to be durable, not for the stream');
  assert.equal(snapshot.emitAt(at(7)), undefined, 'not in while the first is being written');
  snapshot.observe(update(3, 'new', 8));
  snapshot.written();
  assert.equal(snapshot.waiting, true);
  assert.deepEqual(snapshot.emitAt(at(8))?.rows.map((event) => event.key), [{ id: 4 }]);
});
