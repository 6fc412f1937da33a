/**
 * The change topic means to a Debezium consumer what it means to us. A consumer with no code of ours
 * (@kafkajs/confluent-schema-registry's decode, Debezium's meaning of each op: c/r/u put the after image
 * by key, d removes it, t empties the table) replays the change topic and must hold exactly the source:
 * after an initial snapshot taken while a writer inserts, updates, deletes and moves keys (chunks of 100,
 * so the snapshot interleaves with those writes), after a `when_needed` re-snapshot over a purged binlog,
 * and after a real TRUNCATE TABLE. The sink's copy (cdc verify) equals the source each time too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { topics } from '../../topology/topics.ts';
import { PrivateMariaDb } from '../connectors/support/private-mariadb.ts';
import { SourceWriter } from '../connectors/mysql/cli-pipeline.ts';
import {
  assertSameRows,
  cleanUp,
  deleteTopics,
  env,
  FaultConfig,
  faultName,
  FaultSummary,
  killStrayRuns,
  lastEventPerKey,
  opCounts,
  plainChanges,
  purgeBinaryLogs,
  readTopic,
  startRun,
  tableRows,
  tail,
  untilVerified,
} from './support.ts';

const summary = new FaultSummary();
let source: PrivateMariaDb | undefined;

before(async () => {
  source = await PrivateMariaDb.start('debezium-replay');
});

after(async () => {
  await killStrayRuns();
  await source?.remove();
});

/** Replays the change topic as a Debezium consumer does: the table's rows, and how many records of each op it holds. */
async function debeziumReplay(pipeline: string, table: string): Promise<{ rows: Map<string, string> | undefined; ops: Record<string, number> }> {
  const changes = await plainChanges(pipeline);
  return { rows: lastEventPerKey(changes).get(table), ops: opCounts(changes, table) };
}

test('a Debezium consumer replaying the change topic holds the source: after a snapshot under writes, a when_needed re-snapshot and a TRUNCATE TABLE', { timeout: 600_000 }, async () => {
  const src = faultName('dbz_src');
  const dst = faultName('dbz_dst');
  const table = `\`${src}\`.\`items\``;
  const admin = await mysql.createConnection(source!.url());
  const target = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('dbz'),
    source: { type: 'mysql', url: source!.url().replace(/\/$/, ''), db: src, chunkSize: 100 },
    sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
  });
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await target.query(`CREATE DATABASE ${dst}`);
    await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
    await admin.query(`INSERT INTO ${table} SELECT seq, 0, CONCAT('row ', seq) FROM ${src}.seq_1_to_3000`);

    // 1. The initial snapshot, in chunks of 100, while a writer inserts, updates, deletes and moves keys.
    const first = startRun(config.file);
    const writer = new SourceWriter(admin, table, 3000);
    await first.waitForLog('the source streams', (line) => line.msg === 'streaming');
    const rounds = await writer.stop();
    summary.eventsWritten += 3000 + rounds * 2;
    let verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    let replay = await debeziumReplay(config.pipeline, `${src}.items`);
    assert.equal(replay.ops.t, undefined, 'no t on the change topic: no table was truncated');
    assertSameRows(replay.rows, await tableRows(admin, src, 'items'), 'after the initial snapshot under writes');
    summary.notes.push(`initial snapshot under ${rounds} writer rounds: Debezium replay of ${JSON.stringify(replay.ops)} equals the source (${replay.rows?.size ?? 0} rows)`);
    // The snapshot's end marker is on the repartition topic, in every partition: our sinks still get it.
    const markers = (await readTopic(topics.repartition(config.pipeline))).filter((record) => record.key === null);
    assert.deepEqual(markers.map((record) => record.partition).sort(), [0, 1, 2, 3], 'one end marker per repartition partition');
    assert.equal(await first.stop(), 0, tail(first));

    // 2. Changes while stopped, their binlog purged: a when_needed re-snapshot.
    await admin.query(`INSERT INTO ${table} SELECT 10000 + seq, 2, 'lost insert' FROM ${src}.seq_1_to_200`);
    await admin.query(`UPDATE ${table} SET v = v + 3 WHERE id % 7 = 0`);
    await purgeBinaryLogs(admin);
    config.rewrite((options) => ({ ...options, source: { ...options.source, snapshot: 'when_needed' } }));
    const again = startRun(config.file);
    await again.waitForLog('a fresh snapshot', (log) => log.msg === 'snapshot started');
    await again.waitForLog('streaming again', (log) => log.msg === 'streaming');
    verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    replay = await debeziumReplay(config.pipeline, `${src}.items`);
    assert.equal(replay.ops.t, undefined, 'the re-snapshot puts no t on the change topic');
    assertSameRows(replay.rows, await tableRows(admin, src, 'items'), 'after the when_needed re-snapshot');
    summary.notes.push(`when_needed re-snapshot: Debezium replay equals the source (${replay.rows?.size ?? 0} rows)`);

    // 3. A real TRUNCATE TABLE, then new rows: a t on the change topic, which empties the table for both.
    await admin.query(`TRUNCATE TABLE ${table}`);
    await admin.query(`INSERT INTO ${table} SELECT seq, 5, 'after truncate' FROM ${src}.seq_1_to_50`);
    verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    replay = await debeziumReplay(config.pipeline, `${src}.items`);
    assert.equal(replay.ops.t, 1, 'the TRUNCATE TABLE is one t on the change topic');
    assertSameRows(replay.rows, await tableRows(admin, src, 'items'), 'after TRUNCATE TABLE');
    summary.notes.push(`TRUNCATE TABLE: one t on the change topic; Debezium replay and the sink equal the source (${replay.rows?.size ?? 0} rows)`);
    assert.equal(await again.stop(), 0, tail(again));
  } finally {
    await cleanUp(
      () => killStrayRuns(),
      () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
      () => admin.end(),
      () => target.query(`DROP DATABASE IF EXISTS ${dst}`),
      () => target.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
  }
});

test('summary', (t) => {
  summary.report(t, 'debezium-replay.it.test.ts');
  assert.equal(summary.differences, 0);
});
