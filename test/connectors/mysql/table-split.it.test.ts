/**
 * MySqlSource.splitTable and range reads (readChunk up to a key) on the stack's MariaDB: what a spread
 * snapshot's owner plans and its workers read (topology/spread-snapshot.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../topology/errors.ts';
import { withSourceDatabase } from './source-fixture.ts';

test('splitTable bounds a composite-key table every n rows; the ranges read up to their bounds hold every row once, in key order', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.pairs (a INT, b VARCHAR(5), v INT, PRIMARY KEY (a, b))`);
    const rows = Array.from({ length: 25 }, (_, index): [number, string, number] => [index % 5, `k${String(24 - index).padStart(2, '0')}`, index]);
    await admin.query(`INSERT INTO \`${db}\`.pairs (a, b, v) VALUES ?`, [rows]);
    const source = makeSource();
    const table = `${db}.pairs`;
    const keyOrder = rows.map(([a, b]) => ({ a, b })).sort((x, y) => x.a - y.a || (x.b < y.b ? -1 : 1));

    const split = await source.splitTable(table, 10, { position: 'p0', resume: {} });
    assert.ok(split !== undefined);
    assert.deepEqual(split.bounds, [JSON.stringify(Object.values(keyOrder[9]!)), JSON.stringify(Object.values(keyOrder[19]!))]);
    assert.deepEqual({ op: split.marker.op, table: split.marker.source.table, position: split.marker.source.position, snapshot: split.marker.source.snapshot }, { op: 't', table: 'pairs', position: 'p0', snapshot: true });

    // Each range read in chunks of 4 up to its bound (the last to the end).
    const read: Array<{ a: unknown; b: unknown }> = [];
    const ranges = [undefined, ...split.bounds].map((after, index) => ({ after, upTo: split.bounds[index] }));
    for (const { after, upTo } of ranges) {
      for (let from = after, done = false; !done; ) {
        const chunk = (await source.readChunk(table, from, 4, upTo))!;
        read.push(...chunk.rows.map((row) => ({ a: row.key.a, b: row.key.b })));
        done = chunk.done;
        from = chunk.lastKey;
      }
    }
    assert.deepEqual(read, keyOrder);

    assert.equal(await source.splitTable(`${db}.gone`, 10, { position: 'p0', resume: {} }), undefined);
    await admin.query(`CREATE TABLE \`${db}\`.keyless (v INT)`);
    await assert.rejects(source.splitTable(`${db}.keyless`, 10, { position: 'p0', resume: {} }), (error) => error instanceof ConfigError && /no primary key.*spreadSnapshot: false/.test(error.message));
  });
});
