import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowControl } from '../../../topology/flow-control.ts';
import { itemsUntil, withSourceDatabase } from './source-fixture.ts';

test('ALTER TABLE ADD COLUMN mid-stream yields a schema item before the next event, which carries the new column', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, name VARCHAR(20))`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (1, 'before')`);
    await admin.query(`ALTER TABLE \`${db}\`.t ADD COLUMN score INT NOT NULL DEFAULT 7`);
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (2, 'after', 9)`);

    const items = await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'change' && item.event.key.id === 2);
    const interesting = items.filter((item) => item.kind !== 'commit');
    assert.deepEqual(
      interesting.map((item) => item.kind),
      ['change', 'schema', 'change'],
    );
    const [first, schema, second] = interesting;
    assert.ok(first?.kind === 'change' && schema?.kind === 'schema' && second?.kind === 'change');
    assert.deepEqual(first.event.after, { id: 1, name: 'before' });
    assert.deepEqual(
      schema.schema.columns.map((column) => [column.name, column.type, column.nullable]),
      [
        ['id', 'int', false],
        ['name', 'varchar', true],
        ['score', 'int', false],
      ],
    );
    assert.deepEqual(second.event.after, { id: 2, name: 'after', score: 9 });
    assert.equal(second.event.schema, schema.schema);
  });
});

test('TRUNCATE TABLE of a captured table is a t event between the changes before and after it, with its commit; other tables\' truncates are not', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
    await admin.query(`CREATE TABLE \`${db}\`.ignored (id INT PRIMARY KEY)`);
    const source = makeSource({ exclude: [`${db}.ignored`] });
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (1), (2)`);
    await admin.query(`TRUNCATE TABLE \`${db}\`.ignored`);
    await admin.query(`TRUNCATE TABLE \`${db}\`.t`);
    await admin.query(`INSERT INTO \`${db}\`.t VALUES (3)`);

    const items = await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'change' && item.event.key.id === 3);
    const marks = items.map((item) => (item.kind === 'change' ? `${item.event.op} ${item.event.source.table}` : item.kind));
    assert.deepEqual(marks.slice(marks.indexOf('c t')), ['c t', 'c t', 'commit', 't t', 'commit', 'c t']);
    const changes = items.flatMap((item) => (item.kind === 'change' ? [item.event] : []));
    const [truncate] = changes.filter((event) => event.op === 't');
    assert.deepEqual([truncate!.key, truncate!.before, truncate!.after, truncate!.schema?.table], [{}, null, null, 't']);
    const positions = changes.map((event) => event.source.position);
    assert.deepEqual(positions, [...positions].sort(), 'positions in source order');
  });
});
