/**
 * The target MariaDB dies while the sink applies: repartition topic on the local Kafka → SinkRunner →
 * MariaDB sink, into a MariaDB server of this test's own (the stack's shared one is never stopped).
 * The server is killed (SIGKILL) and later shut down (SIGTERM), each time while a batch is being applied,
 * and started again on the same data dir. The sink must retry until the server is back, and the target
 * must end equal to the source: every row, no lost update, no row that should be gone, no row twice.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import { MySqlSink } from '../../../connectors/mysql/sink.ts';
import { CdcError } from '../../../topology/errors.ts';
import type { SinkRunner } from '../../../topology/sink-runner.ts';
import type { KafkaTransport } from '../../../topology/transports/kafka.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { deletePipelineTopics, kafkaTransport, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { MixedWorkload } from '../support/mixed-workload.ts';
import { ObservedSink } from '../support/observed-sink.ts';
import { PrivateMariaDb } from '../support/private-mariadb.ts';
import { avroSerde, FilledRepartitionTopic } from '../support/repartition-topic.ts';

const EVENTS = 300_000;
const PARTITIONS = 4;
const DATABASE = 'restart';

let server: PrivateMariaDb;
let transport: KafkaTransport;
const pipeline = uniquePipeline('sink-restart');

before(async () => {
  server = await PrivateMariaDb.start('sink-restart');
  const admin = await mysql.createConnection(server.url());
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  await admin.end();
  transport = kafkaTransport();
});

after(async () => {
  await transport?.close();
  await deletePipelineTopics(pipeline);
  await server?.remove();
});

test('the sink retries while the target MariaDB is killed and restarted, and ends equal to the source', { timeout: 150_000 }, async () => {
  const workload = new MixedWorkload('shop', 'items', 7);
  const topic = await FilledRepartitionTopic.fill(transport, avroSerde(pipeline), pipeline, PARTITIONS, workload.chunks(EVENTS));

  const sink = new ObservedSink(new MySqlSink({ name: 'mariadb', url: server.url(DATABASE), manageTables: true }));
  // Until the server is back, however long that takes: SinkRunner's default (8 attempts) gives up after
  // about 6 s on average, which a real server restart can outlast.
  const runner: SinkRunner = await topic.drainInto(sink, { maxDelayMs: 1_000 });
  let fatal: unknown;
  runner.done.catch((error: unknown) => (fatal = error));
  try {
    for (const { how, stop, share } of [
      { how: 'SIGKILL', stop: () => server.kill(), share: 1 / 3 },
      { how: 'SIGTERM', stop: () => server.shutdown(), share: 2 / 3 },
    ]) {
      await eventually(`${Math.round(share * 100)}% of the topic applied`, async () => (await topic.committed(sink.name)) >= share * topic.records, 60_000);
      assert.ok(!(await topic.drained(sink.name)), `the topic was drained before the ${how}: make it longer`);
      const failuresBefore = sink.failures.length;
      await sink.nextApply();
      await stop();
      // Down until the sink has found it down: the restart comes after at least one failed apply.
      await eventually(`an apply fails after the ${how}`, () => sink.failures.length > failuresBefore, 60_000);
      await server.restart();
    }
    await eventually('lag zero', async () => fatal !== undefined || (await topic.drained(sink.name)), 90_000);
    assert.equal(fatal, undefined, `the sink stopped: ${String(fatal)}`);
  } finally {
    await runner.stop();
  }

  const reasons = [...new Set(sink.failures.map((error) => (error as Error).message.replace(/^mariadb: /, '').slice(0, 50)))];
  assert.ok(
    sink.failures.every((error) => error instanceof CdcError && error.retriable),
    `every failure is retriable: ${sink.failures.map((error) => (error instanceof CdcError ? `${error.code} ${error.message}` : String(error))).join('; ')}`,
  );

  const check = await mysql.createConnection({ uri: server.url(DATABASE), supportBigNumbers: true, bigNumberStrings: true });
  try {
    const [rows] = await check.query({ sql: 'SELECT id, name, n FROM items ORDER BY id', rowsAsArray: true });
    const actual = (rows as unknown[][]).map((row) => row.map(String));
    const expected = workload.expectedRows();
    assert.equal(actual.length, expected.length, 'row count');
    assert.deepEqual(actual, expected);
    const [[{ absentYetPresent }]] = (await check.query(
      'SELECT COUNT(*) AS absentYetPresent FROM items JOIN items__cdc_tombstones t USING (id) WHERE t.__cdc_pos > items.__cdc_pos',
    )) as unknown as [[{ absentYetPresent: string }]];
    assert.equal(Number(absentYetPresent), 0, 'no row is older than its own tombstone');
  } finally {
    await check.end();
  }
  console.log(`${topic.records} events over ${PARTITIONS} partitions into ${workload.rows.size} rows; ${sink.failures.length} failed applies retried (${reasons.join(' | ')})`);
});
