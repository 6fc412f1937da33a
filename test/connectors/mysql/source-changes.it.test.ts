import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { StreamItem } from '../../../topology/source.ts';
import { itemsUntil, withSourceDatabase } from './source-fixture.ts';

test('inserts, updates, deletes and key changes stream with before/after/key, one txId per transaction and a commit after each', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.people (id INT PRIMARY KEY, name VARCHAR(20))`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.people VALUES (1, 'lucy'), (2, 'bob')`);
    await admin.beginTransaction();
    await admin.query(`UPDATE \`${db}\`.people SET name = 'lucia' WHERE id = 1`);
    await admin.query(`UPDATE \`${db}\`.people SET id = 3 WHERE id = 2`);
    await admin.query(`DELETE FROM \`${db}\`.people WHERE id = 1`);
    await admin.commit();

    let commits = 0;
    const items = await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'commit' && ++commits === 2);
    const summary = items.map((item) =>
      item.kind === 'change' ? { op: item.event.op, key: item.event.key, before: item.event.before, after: item.event.after } : item.kind,
    );
    assert.deepEqual(summary, [
      { op: 'c', key: { id: 1 }, before: null, after: { id: 1, name: 'lucy' } },
      { op: 'c', key: { id: 2 }, before: null, after: { id: 2, name: 'bob' } },
      'commit',
      { op: 'u', key: { id: 1 }, before: { id: 1, name: 'lucy' }, after: { id: 1, name: 'lucia' } },
      { op: 'd', key: { id: 2 }, before: { id: 2, name: 'bob' }, after: null },
      { op: 'c', key: { id: 3 }, before: null, after: { id: 3, name: 'bob' } },
      { op: 'd', key: { id: 1 }, before: { id: 1, name: 'lucia' }, after: null },
      'commit',
    ]);

    const transactions = splitAtCommits(items);
    const txIds = transactions.map((events) => new Set(events.map((event) => event.source.txId)));
    assert.deepEqual(txIds.map((ids) => ids.size), [1, 1]);
    const [first, second] = txIds.map((ids) => [...ids][0]);
    assert.match(first!, /^\d+-\d+-\d+$/, 'MariaDB GTID domain-server-seq');
    assert.notEqual(first, second);

    const positions = items.map((item) => (item.kind === 'change' ? item.event.source.position : item.kind === 'commit' ? item.position.position : ''));
    assert.ok(positions.every((position, index) => index === 0 || positions[index - 1]! < position), `strictly increasing: ${positions.join(' ')}`);
    assert.ok(from.position < positions[0]!, 'every streamed event is after the opened log position');
    const lastCommit = items.at(-1);
    assert.ok(lastCommit?.kind === 'commit');
    assert.equal(lastCommit.position.resume.gtid, second, 'the GTID position after the commit is the last transaction');
  });
});

test('streaming from a commit position resumes at the next transaction', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (1)`);
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (2)`);
    const firstCommit = (await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'commit')).at(-1);
    assert.ok(firstCommit?.kind === 'commit');
    const resumed = await itemsUntil(source.stream(firstCommit.position, new FlowControl()), (item) => item.kind === 'commit');
    assert.deepEqual(
      resumed.flatMap((item) => (item.kind === 'change' ? [item.event.key] : [])),
      [{ id: 2 }],
    );
  });
});

function splitAtCommits(items: readonly StreamItem[]) {
  const transactions = [[]] as Array<Array<Extract<StreamItem, { kind: 'change' }>['event']>>;
  for (const item of items) {
    if (item.kind === 'change') transactions.at(-1)!.push(item.event);
    else if (item.kind === 'commit') transactions.push([]);
  }
  return transactions.filter((events) => events.length > 0);
}
