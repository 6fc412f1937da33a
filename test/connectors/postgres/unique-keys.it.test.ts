import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { PostgresSink } from '../../../connectors/postgres/sink.ts';
import { recordWorkload } from '../support/source-log.ts';
import { runAllSchedules } from '../support/schedules.ts';
import { uniqueKeyScenarios as scenarios } from '../support/scenarios.ts';
import { scratchMariaDb, scratchPostgres, type Scratch } from '../support/targets.ts';

let source: Scratch & { connection: mysql.Connection };
let target: Scratch & { client: pg.Client };

before(async () => {
  source = await scratchMariaDb('src');
  target = await scratchPostgres('dst');
});

after(async () => {
  await target.drop();
  await source.drop();
});

for (const keyChange of ['delete+create', 'update'] as const) {
  for (const scenario of scenarios) {
    test(`PostgreSQL sink: ${scenario.name} (key change as ${keyChange}) ends equal to expect in every schedule`, async (t) => {
      const workload = await recordWorkload(source.connection, source.name, scenario.ddl, scenario.statements, { keyChange });
      // A new table and sink per scenario: the sink creates the table from the recorded schema.
      await target.client.query(`DROP TABLE IF EXISTS "${target.name}".t, "${target.name}".t__cdc_tombstones`);
      const sink = new PostgresSink({ name: 'postgres-test', url: target.url, schema: target.name, manageTables: true, connections: 1 });
      await sink.start();
      t.after(() => sink.close());
      const columns = workload.schema.columns.map((column) => `"${column.name}"`).join(', ');
      const schedules = await runAllSchedules(
        {
          sink,
          async reset() {
            const exists = await target.client.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [target.name, 't']);
            if (exists.rowCount === 0) return;
            await target.client.query(`DELETE FROM "${target.name}".t`);
            await target.client.query(`DELETE FROM "${target.name}".t__cdc_tombstones`);
          },
          async read() {
            const result = await target.client.query({ text: `SELECT ${columns} FROM "${target.name}".t ORDER BY id`, rowMode: 'array' });
            return result.rows as unknown[][];
          },
        },
        workload.events,
        scenario.expect,
        scenario.name,
      );
      console.log(`${scenario.name} (${keyChange}): ${workload.events.length} events, ${schedules} schedules`);
    });
  }
}
