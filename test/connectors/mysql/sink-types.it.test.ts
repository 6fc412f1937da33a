/**
 * Every column type through the MySQL/MariaDB sink: the all-types rows snapshotted by the real source,
 * applied by the sink into a target table it creates, and read back by the same source from the target.
 * The values must come back equal to what was inserted (the canonical values of type-rows.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import { POSITION_COLUMN } from '../../../connectors/sql/dialect.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { Row } from '../../../topology/change-event.ts';
import { snapshotRows } from '../../support/snapshot-items.ts';
import { scratchMariaDb } from '../support/targets.ts';
import { randomServerId, withSourceDatabase } from './source-fixture.ts';
import { MySqlSource } from '../../../connectors/mysql/source.ts';
import { ALL_TYPES_COLUMNS, ALL_TYPES_EXPECTED, ALL_TYPES_VALUES } from './type-rows.ts';

/** The rows of `db`'s `all_types`, read by the MySQL source's snapshot, without the sink's position column. */
async function readBack(url: string, db: string): Promise<Row[]> {
  const source = new MySqlSource({ name: 'read-back', url, serverId: randomServerId(), include: [`${db}.all_types`], heartbeatIntervalMs: 0, warn: () => {} });
  try {
    const items = await firstValueFrom(source.snapshot(await source.openLog(), {}, new FlowControl()).pipe(toArray()));
    return snapshotRows(items).map(({ after }) => Object.fromEntries(Object.entries(after!).filter(([column]) => column !== POSITION_COLUMN)));
  } finally {
    await source.close();
  }
}

test('every column type is written by the MySQL sink as it came: snapshot, apply into a table the sink creates, read back equal', { timeout: 120_000 }, async () => {
  const target = await scratchMariaDb('types');
  try {
    await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
      // Zero dates need a permissive sql_mode; TIMESTAMP literals are meant in UTC.
      await admin.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
      await admin.query(`CREATE TABLE \`${db}\`.all_types (${ALL_TYPES_COLUMNS})`);
      await admin.query(`INSERT INTO \`${db}\`.all_types VALUES ${ALL_TYPES_VALUES.join(', ')}`);
      const source = makeSource();
      const events = snapshotRows(await firstValueFrom(source.snapshot(await source.openLog(), {}, new FlowControl()).pipe(toArray())));
      assert.deepEqual(
        events.map((event) => event.after),
        ALL_TYPES_EXPECTED,
      );

      const sink = new MySqlSink({ name: 'types', url: target.url, manageTables: true });
      await sink.start();
      try {
        const { rejected } = await sink.apply(events.map((event, offset) => ({ event, topic: 'changes', partition: 0, offset: String(offset) })));
        assert.deepEqual(
          rejected.map(({ reason }) => reason),
          [],
        );
      } finally {
        await sink.close();
      }
    });
    assert.deepEqual(await readBack(target.url, target.name), ALL_TYPES_EXPECTED);
  } finally {
    await target.drop();
  }
});
