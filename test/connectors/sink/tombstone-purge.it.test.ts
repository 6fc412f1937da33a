/**
 * The background purge as a pipeline runs it: a repartition topic of a queue-like workload drained by
 * SinkRunner into MariaDB, PostgreSQL and MongoDB at once (three sinks, three consumer groups), each
 * purging every 200 ms with a 1 s retention. Once the topic is applied, every partition's last record is
 * an insert of the last round, newer than every delete, so all tombstones go (900 without the purge), while the targets keep
 * exactly the last round's rows. (The bound during a run and replays: tombstone-scenario.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MongoClient } from 'mongodb';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { MongoSink } from '../../../connectors/mongodb/sink.ts';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import { PostgresSink } from '../../../connectors/postgres/sink.ts';
import type { TombstoneSettings } from '../../../connectors/sink/tombstone-purge.ts';
import type { SinkRunner } from '../../../topology/sink-runner.ts';
import type { KafkaTransport } from '../../../topology/transports/kafka.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { deletePipelineTopics, kafkaTransport, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde, FilledRepartitionTopic } from '../support/repartition-topic.ts';
import { scratchMariaDb, scratchMongo, scratchPostgres, type Scratch } from '../support/targets.ts';
import { queueRound, roundIds } from '../support/tombstone-scenario.ts';

const PARTITIONS = 4;
const ROUNDS = 10;
const KEYS = 100;
const TOMBSTONES: Partial<TombstoneSettings> = { retentionMs: 1_000, purgeIntervalMs: 200, batchSize: 50 };

let transport: KafkaTransport;
const pipeline = uniquePipeline('tombstone-purge');
let mariadb: Scratch & { connection: mysql.Connection };
let postgres: Scratch & { client: pg.Client };
let mongo: Scratch & { client: MongoClient };

before(async () => {
  transport = kafkaTransport();
  [mariadb, postgres, mongo] = await Promise.all([scratchMariaDb('purge'), scratchPostgres('purge'), scratchMongo('purge')]);
});

after(async () => {
  await Promise.all([mariadb.drop(), postgres.drop(), mongo.drop()]);
  await transport.close();
  await deletePipelineTopics(pipeline);
});

test('a sink run purges the tombstones of a delete-heavy table in the background; the targets keep equal to the source', async (t) => {
  const rounds = Array.from({ length: ROUNDS }, (_, round) => queueRound(round, KEYS).map(({ event }) => event));
  const topic = await FilledRepartitionTopic.fill(transport, avroSerde(pipeline), pipeline, PARTITIONS, rounds);
  const sinks = [
    new MySqlSink({ name: 'mariadb', url: mariadb.url, manageTables: true, tombstones: TOMBSTONES }),
    new PostgresSink({ name: 'postgres', url: postgres.url, schema: postgres.name, manageTables: true, tombstones: TOMBSTONES }),
    new MongoSink({ name: 'mongodb', url: mongo.url, database: mongo.name, tombstones: TOMBSTONES }),
  ];
  const runners: SinkRunner[] = await Promise.all(sinks.map((sink) => topic.drainInto(sink)));
  t.after(() => Promise.all(runners.map((runner) => runner.stop())));
  const probes = {
    mariadb: {
      ids: async () => ((await mariadb.connection.query({ sql: 'SELECT id FROM queue ORDER BY id', rowsAsArray: true }))[0] as number[][]).map(([id]) => id!),
      tombstones: async () => Number(((await mariadb.connection.query('SELECT COUNT(*) AS n FROM queue__cdc_tombstones'))[0] as Array<{ n: unknown }>)[0]!.n),
    },
    postgres: {
      ids: async () => (await postgres.client.query({ text: `SELECT id FROM "${postgres.name}".queue ORDER BY id`, rowMode: 'array' })).rows.map(([id]) => id as number),
      tombstones: async () => Number((await postgres.client.query(`SELECT COUNT(*) AS n FROM "${postgres.name}".queue__cdc_tombstones`)).rows[0].n),
    },
    mongodb: {
      ids: async () => (await mongo.client.db(mongo.name).collection('queue').find({}).sort({ _id: 1 }).toArray()).map((doc) => doc._id as unknown as number),
      tombstones: () => mongo.client.db(mongo.name).collection('queue__cdc_tombstones').countDocuments(),
    },
  };
  // A sink that stops with an error fails the test with that error, not as a drain that never comes.
  const stopped = Promise.race(runners.map((runner, i) => runner.done.then(() => Promise.reject(new Error(`sink ${sinks[i]!.name} stopped`)))));
  stopped.catch(() => {});
  for (const sink of sinks) await Promise.race([eventually(`${sink.name} applied the topic`, () => topic.drained(sink.name), 120_000), stopped]);
  for (const [name, probe] of Object.entries(probes)) {
    assert.deepEqual(await probe.ids(), roundIds(ROUNDS - 1, KEYS), `${name} equals the source`);
    await eventually(`${name}: every tombstone purged`, async () => (await probe.tombstones()) === 0, 60_000);
    assert.deepEqual(await probe.ids(), roundIds(ROUNDS - 1, KEYS), `${name} still equals the source`);
  }
});
