/**
 * The MongoDB sink has no transactions: its rule is built from single-document writes, and the one
 * write that crosses partitions (the delete of a key-changing update's before key) races the key's own
 * partition. Here every partition has its own worker and all of them apply at once, as SinkRunner runs
 * them, over random workloads full of key changes, with replays; the target must end equal to the source.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MongoClient } from 'mongodb';
import type mysql from 'mysql2/promise';
import { MongoSink } from '../../../connectors/mongodb/sink.ts';
import type { SinkRecord } from '../../../topology/sink.ts';
import { seededRandom } from '../support/random.ts';
import { RANDOM_WORKLOAD_DDL, randomSchedule, randomStatements } from '../support/random-workloads.ts';
import { applyAll, hashPartition, partition } from '../support/schedules.ts';
import { recordWorkload } from '../support/source-log.ts';
import { scratchMariaDb, scratchMongo, type Scratch } from '../support/targets.ts';

const WORKLOADS = 40;
const STATEMENTS = 40;
const SCHEDULES_PER_WORKLOAD = 4;
const PARTITIONS = 8;

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

/** The batches of a schedule, per partition, in the order that partition delivers them. */
function byPartition(batches: readonly SinkRecord[][]): SinkRecord[][][] {
  const partitions = new Map<number, SinkRecord[][]>();
  for (const batch of batches) partitions.set(batch[0]!.partition, [...(partitions.get(batch[0]!.partition) ?? []), batch]);
  return [...partitions.values()];
}

test(`random workloads applied by ${PARTITIONS} concurrent partition workers end equal to the source`, async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  const next = seededRandom(seed);
  const sink = new MongoSink({ name: 'mongodb-concurrent', url: target.url, database: target.name });
  await sink.start();
  t.after(() => sink.close());
  const db = target.client.db(target.name);
  let events = 0;
  let keyChanges = 0;
  for (let w = 0; w < WORKLOADS; w++) {
    const statements = randomStatements(next, STATEMENTS);
    const keyChange = w % 2 === 0 ? 'delete+create' : 'update';
    const recorded = await recordWorkload(source.connection, source.name, RANDOM_WORKLOAD_DDL, statements, { ignoreErrors: true, keyChange });
    const columns = recorded.schema.columns.map((column) => column.name);
    const partitions = partition(recorded.events, PARTITIONS, (key) => hashPartition(key, PARTITIONS));
    events += recorded.events.length;
    keyChanges += recorded.events.filter((event) => event.op === 'u' && event.before?.id !== event.after?.id).length;
    for (let s = 0; s < SCHEDULES_PER_WORKLOAD; s++) {
      await db.collection('t').deleteMany({});
      await db.collection('t__cdc_tombstones').deleteMany({});
      const workers = byPartition(randomSchedule(partitions, next));
      await Promise.all(workers.map(async (batches) => {
        for (const batch of batches) await applyAll(sink, batch);
      }));
      const documents = await db.collection('t').find().sort({ _id: 1 }).toArray();
      assert.deepEqual(
        documents.map((doc) => columns.map((column) => doc[column])),
        recorded.finalRows,
        `seed ${seed}, workload ${w} (${keyChange}), schedule ${s}:\n${statements.join(';\n')}`,
      );
    }
  }
  console.log(`seed ${seed}: ${WORKLOADS} workloads, ${events} events (${keyChanges} key-changing updates), ${WORKLOADS * SCHEDULES_PER_WORKLOAD} concurrent schedules over ${PARTITIONS} partitions`);
});
