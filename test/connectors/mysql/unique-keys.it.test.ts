import { after, before, test } from 'node:test';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import { recordWorkload } from '../support/source-log.ts';
import { runAllSchedules } from '../support/schedules.ts';
import { uniqueKeyScenarios as scenarios } from '../support/scenarios.ts';
import { scratchMariaDb, type Scratch } from '../support/targets.ts';
import type mysql from 'mysql2/promise';

let source: Scratch & { connection: mysql.Connection };
let target: Scratch & { connection: mysql.Connection };

before(async () => {
  source = await scratchMariaDb('src');
  target = await scratchMariaDb('dst');
});

after(async () => {
  await target.drop();
  await source.drop();
});

for (const keyChange of ['delete+create', 'update'] as const) {
  for (const scenario of scenarios) {
    test(`MariaDB sink: ${scenario.name} (key change as ${keyChange}) ends equal to expect in every schedule`, async (t) => {
      const workload = await recordWorkload(source.connection, source.name, scenario.ddl, scenario.statements, { keyChange });
      // A new table and sink per scenario: the sink creates the table from the recorded schema.
      await target.connection.query('DROP TABLE IF EXISTS t, t__cdc_tombstones');
      const sink = new MySqlSink({ name: 'mariadb-test', url: target.url, manageTables: true, connections: 1 });
      await sink.start();
      t.after(() => sink.close());
      const columns = workload.schema.columns.map((column) => `\`${column.name}\``).join(', ');
      const schedules = await runAllSchedules(
        {
          sink,
          async reset() {
            const [tables] = await target.connection.query("SHOW TABLES LIKE 't%'");
            if ((tables as unknown[]).length === 0) return;
            await target.connection.query('DELETE FROM t');
            await target.connection.query('DELETE FROM t__cdc_tombstones');
          },
          async read() {
            const [rows] = await target.connection.query({ sql: `SELECT ${columns} FROM t ORDER BY id`, rowsAsArray: true });
            return rows as unknown[][];
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
