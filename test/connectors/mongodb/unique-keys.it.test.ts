import { after, before, test } from 'node:test';
import type { MongoClient } from 'mongodb';
import type mysql from 'mysql2/promise';
import { MongoSink } from '../../../connectors/mongodb/sink.ts';
import { recordWorkload } from '../support/source-log.ts';
import { runAllSchedules } from '../support/schedules.ts';
import { uniqueKeyScenarios as scenarios } from '../support/scenarios.ts';
import { scratchMariaDb, scratchMongo, type Scratch } from '../support/targets.ts';

let source: Scratch & { connection: mysql.Connection };
let target: Scratch & { client: MongoClient };

before(async () => {
  source = await scratchMariaDb('src');
  target = await scratchMongo('dst');
});

after(async () => {
  await target.drop();
  await source.drop();
});

for (const keyChange of ['delete+create', 'update'] as const) {
  for (const scenario of scenarios) {
    test(`MongoDB sink: ${scenario.name} (key change as ${keyChange}) ends equal to expect in every schedule`, async (t) => {
      const workload = await recordWorkload(source.connection, source.name, scenario.ddl, scenario.statements, { keyChange });
      const sink = new MongoSink({ name: 'mongodb-test', url: target.url, database: target.name });
      await sink.start();
      t.after(() => sink.close());
      const db = target.client.db(target.name);
      const columns = workload.schema.columns.map((column) => column.name);
      const schedules = await runAllSchedules(
        {
          sink,
          async reset() {
            await db.collection('t').deleteMany({});
            await db.collection('t__cdc_tombstones').deleteMany({});
          },
          async read() {
            const docs = await db.collection('t').find().sort({ _id: 1 }).toArray();
            return docs.map((doc) => columns.map((column) => doc[column]));
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
