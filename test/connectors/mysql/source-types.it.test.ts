import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import type { Row } from '../../../topology/change-event.ts';
import { snapshotRows } from '../../support/snapshot-items.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import { quoteIdentifier } from '../../../connectors/mysql/sql.ts';
import { withKafkaPipeline } from './kafka-pipeline.ts';
import { changes, itemsUntil, withSourceDatabase } from './source-fixture.ts';
import { ALL_TYPES_COLUMNS, ALL_TYPES_EXPECTED, ALL_TYPES_VALUES } from './type-rows.ts';

test('every column type arrives with the same canonical value through snapshot and binlog, equal to what was inserted', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    // Zero dates need a permissive sql_mode; TIMESTAMP literals are meant in UTC.
    await admin.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
    await admin.query(`CREATE TABLE \`${db}\`.all_types (${ALL_TYPES_COLUMNS})`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.all_types VALUES ${ALL_TYPES_VALUES.join(', ')}`);

    const snapshot = await firstValueFrom(source.snapshot(from, {}, new FlowControl()).pipe(toArray()));
    const snapshotAfters = snapshotRows(snapshot).map((event) => event.after);
    const streamed = changes(await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'commit'));

    assert.deepEqual(snapshotAfters, ALL_TYPES_EXPECTED);
    assert.deepEqual(
      streamed.map((event) => event.after),
      ALL_TYPES_EXPECTED,
    );
    assert.deepEqual(
      streamed.map((event) => event.op),
      ['c', 'c', 'c'],
    );
  });
});

test('every column type survives MariaDB → change topic on Kafka (Avro, schema registry) → decode: snapshot r, streamed c and u', { timeout: 120_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await withKafkaPipeline('types', async (pipeline) => {
      await admin.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
      await admin.query(`CREATE TABLE \`${db}\`.all_types (${ALL_TYPES_COLUMNS})`);
      await admin.query(`INSERT INTO \`${db}\`.all_types VALUES ${ALL_TYPES_VALUES.join(', ')}`);
      await pipeline.start(makeSource());
      await pipeline.untilToken('the snapshot is finished', (token) => token.phase === 'streaming');

      // c: copies of the three rows under keys 11-13; u: rows 1, 2, 3 take the values of rows 2, 3, 1.
      const others = Object.keys(ALL_TYPES_EXPECTED[0]!).filter((column) => column !== 'id').map(quoteIdentifier);
      await admin.query(`INSERT INTO \`${db}\`.all_types SELECT id + 10, ${others.join(', ')} FROM \`${db}\`.all_types`);
      await admin.query(
        `UPDATE \`${db}\`.all_types a JOIN \`${db}\`.all_types b ON b.id = 11 + a.id % 3
          SET ${others.map((column) => `a.${column} = b.${column}`).join(', ')} WHERE a.id <= 3`,
      );
      await pipeline.until('9 change events are in the change topic', async () => (await pipeline.changes('test')).length >= 9);

      const withId = (row: Row, id: number): Row => ({ ...row, id });
      const [highest, lowest, nulls] = ALL_TYPES_EXPECTED as [Row, Row, Row];
      const expected = [
        ...[highest, lowest, nulls].map((row) => ({ op: 'r', key: { id: row.id }, before: null, after: row })),
        ...[highest, lowest, nulls].map((row, index) => ({ op: 'c', key: { id: 11 + index }, before: null, after: withId(row, 11 + index) })),
        { op: 'u', key: { id: 1 }, before: highest, after: withId(lowest, 1) },
        { op: 'u', key: { id: 2 }, before: lowest, after: withId(nulls, 2) },
        { op: 'u', key: { id: 3 }, before: nulls, after: withId(highest, 3) },
      ];
      const decoded = (await pipeline.changes('test')).map(({ op, key, before, after }) => ({ op, key, before, after }));
      assert.deepEqual(decoded, expected);
    });
  });
});
