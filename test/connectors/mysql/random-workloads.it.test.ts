import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import { recordWorkload } from '../support/source-log.ts';
import { applyAll, hashPartition, partition } from '../support/schedules.ts';
import { scratchMariaDb, type Scratch } from '../support/targets.ts';
import { seededRandom } from '../support/random.ts';
import { RANDOM_WORKLOAD_DDL, randomSchedule, randomStatements } from '../support/random-workloads.ts';

const WORKLOADS = 40;
const STATEMENTS = 30;
const SCHEDULES_PER_WORKLOAD = 4;
const PARTITIONS = 8;

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

test(`random workloads on a table with two unique keys end equal to the source through ${PARTITIONS} partitions`, async () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  const next = seededRandom(seed);
  let events = 0;
  let rows = 0;
  let schedules = 0;
  for (let w = 0; w < WORKLOADS; w++) {
    const statements = randomStatements(next, STATEMENTS);
    const recorded = await recordWorkload(source.connection, source.name, RANDOM_WORKLOAD_DDL, statements, {
      ignoreErrors: true,
      keyChange: w % 2 === 0 ? 'delete+create' : 'update',
    });
    const partitions = partition(recorded.events, PARTITIONS, (key) => hashPartition(key, PARTITIONS));
    events += recorded.events.length;
    rows += recorded.finalRows.length;
    for (let s = 0; s < SCHEDULES_PER_WORKLOAD; s++) {
      await target.connection.query('DROP TABLE IF EXISTS t, t__cdc_tombstones');
      // The sink remembers tables it made: a new sink for the new table.
      const sink = new MySqlSink({ name: 'mariadb-random', url: target.url, manageTables: true, connections: 1 });
      try {
        for (const batch of randomSchedule(partitions, next)) await applyAll(sink, batch);
      } finally {
        await sink.close();
      }
      const [targetRows] = await target.connection.query({ sql: 'SELECT id, a, b FROM t ORDER BY id', rowsAsArray: true });
      assert.deepEqual(targetRows, recorded.finalRows, `seed ${seed}, workload ${w}, schedule ${s}:\n${statements.join(';\n')}`);
      schedules++;
    }
  }
  console.log(`seed ${seed}: ${WORKLOADS} workloads, ${events} events, ${rows} source rows at the end, ${schedules} random schedules over ${PARTITIONS} partitions`);
});
