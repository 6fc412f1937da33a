import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray, type Observable } from 'rxjs';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { SnapshotItem } from '../../../topology/source.ts';
import type { TableSnapshotProgress } from '../../../topology/token.ts';
import { snapshotMarks, snapshotRows } from '../../support/snapshot-items.ts';
import { withSourceDatabase } from './source-fixture.ts';

const CHUNK = 10;

test('a composite-key table is read in chunks with chunkDone progress, and a resumed snapshot skips the finished chunks', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.pairs (a INT, b VARCHAR(5), v INT, PRIMARY KEY (a, b))`);
    // 25 rows whose key order differs from insertion order, over both key columns.
    const rows = Array.from({ length: 25 }, (_, index): [number, string, number] => [index % 5, `k${String(24 - index).padStart(2, '0')}`, index]);
    await admin.query(`INSERT INTO \`${db}\`.pairs (a, b, v) VALUES ?`, [rows]);
    const source = makeSource({ chunkSize: CHUNK });
    const from = await source.openLog();
    const table = `${db}.pairs`;

    const full = await read(source.snapshot(from, {}, new FlowControl()));
    const keyOrder = rows.map(([a, b]) => ({ a, b })).sort((x, y) => x.a - y.a || (x.b < y.b ? -1 : 1));
    assert.deepEqual(full.keys, keyOrder);
    assert.deepEqual(
      full.progress.map(({ done, rows: count, chunks }) => ({ done, rows: count, chunks })),
      [
        { done: false, rows: 10, chunks: 1 },
        { done: false, rows: 20, chunks: 2 },
        { done: true, rows: 25, chunks: 3 },
      ],
    );
    assert.ok(full.events.every((event) => event.op === 'r' && event.source.snapshot && event.source.position === from.position));
    // The table's end marker at the snapshot's position comes after its last row, before the progress that marks it done.
    assert.deepEqual(full.marks.slice(-3), ['r', `end t ${from.position}`, 'done']);
    assert.equal(full.marks.filter((mark) => mark.startsWith('end')).length, 1);

    const afterFirstChunk = full.progress[0]!;
    const resumed = await read(source.snapshot(from, { [table]: afterFirstChunk }, new FlowControl()));
    assert.deepEqual(resumed.keys, keyOrder.slice(CHUNK), 'the resumed snapshot reads only the rows after the first chunk');
    assert.equal(resumed.progress.length, 2, 'chunks read on resume');
    assert.equal(afterFirstChunk.chunks, 1, 'chunks skipped on resume');
    assert.deepEqual(resumed.progress.at(-1), full.progress.at(-1));

    const finished = await read(source.snapshot(from, { [table]: full.progress.at(-1)! }, new FlowControl()));
    assert.deepEqual(finished.marks, [], 'a finished table is not read again, and gets no second end marker');
  });
});

test('a table without a key is read in one pass with a warning, or by its configured key', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    for (const name of ['keyless', 'configured', 'keyed']) {
      await admin.query(`CREATE TABLE \`${db}\`.\`${name}\` (id INT ${name === 'keyed' ? 'PRIMARY KEY' : 'NOT NULL'}, v INT)`);
      await admin.query(`INSERT INTO \`${db}\`.\`${name}\` VALUES (1, 1), (2, 2), (3, 3)`);
    }
    const warnings: string[] = [];
    const source = makeSource({ chunkSize: 2, parallelism: 3, keys: { [`${db}.configured`]: ['id'] }, warn: (message) => warnings.push(message) });
    // Progress bars show rows done / estimated: InnoDB's statistics, exact once analyzed.
    await admin.query(`ANALYZE TABLE \`${db}\`.keyless, \`${db}\`.configured, \`${db}\`.keyed`);
    assert.deepEqual(await source.estimateRows(await source.tables()), { [`${db}.configured`]: 3, [`${db}.keyed`]: 3, [`${db}.keyless`]: 3 });
    const items = await firstValueFrom(source.snapshot(await source.openLog(), {}, new FlowControl()).pipe(toArray()));
    const finalProgress = Object.fromEntries(items.flatMap((item) => (item.kind === 'chunkDone' && item.progress.done ? [[item.table, item.progress.chunks]] : [])));
    assert.deepEqual(finalProgress, { [`${db}.configured`]: 2, [`${db}.keyed`]: 2, [`${db}.keyless`]: 1 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /keyless has no primary key/);
    const keyOf = (table: string) => snapshotRows(items).flatMap((event) => (event.source.table === table ? [event.key] : []));
    assert.deepEqual(snapshotMarks(items, `${db}.keyless`), ['r', 'r', 'r', `end t ${items.find((item) => item.kind === 'row')!.event.source.position}`, 'done']);
    assert.deepEqual(keyOf('configured'), [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.deepEqual(keyOf('keyless'), [{}, {}, {}]);
  });
});

async function read(snapshot: Observable<SnapshotItem>) {
  const items = await firstValueFrom(snapshot.pipe(toArray()));
  const events = snapshotRows(items);
  const progress: TableSnapshotProgress[] = items.flatMap((item) => (item.kind === 'chunkDone' ? [item.progress] : []));
  const table = progress.length > 0 ? (items.find((item) => item.kind === 'chunkDone') as { table: string }).table : '';
  return { events, keys: events.map((event) => event.key), progress, marks: snapshotMarks(items, table) };
}
