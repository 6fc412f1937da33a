/**
 * Fault suite, the stored position: the binlog purged past the source's token (a private MariaDB source,
 * private-mariadb.ts, so the stack's shared binlog is never purged): `cdc run` stops with a clear error,
 * and with `snapshot: when_needed` takes a fresh snapshot that converges. And a token topic the broker
 * refuses to write: no snapshot starts. (test/topology/source-runner.test.ts and
 * test/connectors/mysql/source-token.it.test.ts prove both on the source runner; these are the end-to-end
 * checks through the CLI. MongoDB history loss cannot be shown here: the stack's mongo-java-server never
 * truncates its oplog; test/connectors/mongodb/source-real-mongodb.test.ts covers error 286 against a
 * scripted server.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { TableComparison } from '../../cli/verify.ts';
import { topics } from '../../topology/topics.ts';
import { PrivateMariaDb } from '../connectors/support/private-mariadb.ts';
import { withAdmin } from '../topology/fixtures/kafka-kit.ts';
import { cleanUp, deleteTopics, env, FaultConfig, faultName, FaultSummary, exitOf, killStrayRuns, purgeBinaryLogs, readTopic, startRun, tail, untilVerified, verifyCli } from './support.ts';

const summary = new FaultSummary();
let source: PrivateMariaDb | undefined;

before(async () => {
  source = await PrivateMariaDb.start('fault-binlog');
});

after(async () => {
  await killStrayRuns();
  await source?.remove();
});

/**
 * Runs a pipeline from the private MariaDB until it streams and the copy is equal, stops it, changes the
 * source (inserts, updates and deletes), purges the binlog holding the token, checks that `cdc run` then stops
 * with the clear error, and runs again with `snapshot: when_needed`. Returns the verification after that.
 */
async function purgedPastTheToken(deadlineMs: number): Promise<{ code: number | null; output: string; results: TableComparison[] }> {
  const src = faultName('binlog_src');
  const dst = faultName('binlog_dst');
  const admin = await mysql.createConnection(source!.url());
  const target = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('binlog'),
    source: { type: 'mysql', url: source!.url().replace(/\/$/, ''), db: src, chunkSize: 500 },
    sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
  });
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await target.query(`CREATE DATABASE ${dst}`);
    await admin.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, v INT NOT NULL)`);
    await admin.query(`INSERT INTO ${src}.items SELECT seq, 0 FROM ${src}.seq_1_to_2000`);

    const first = startRun(config.file);
    await first.waitForLog('the source streams', (line) => line.msg === 'streaming');
    await admin.query(`UPDATE ${src}.items SET v = 1 WHERE id <= 100`);
    const verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    assert.equal(await first.stop(), 0, tail(first));

    // While the pipeline is stopped: changes, then the binlog holding them (and the token) is purged.
    await admin.query(`INSERT INTO ${src}.items SELECT 2000 + seq, 2 FROM ${src}.seq_1_to_200`);
    await admin.query(`UPDATE ${src}.items SET v = 3 WHERE id % 7 = 0`);
    // Deletes the sinks never hear of: only the snapshot's truncate (op t) can take these rows out of the target.
    await admin.query(`DELETE FROM ${src}.items WHERE id % 11 = 0`);
    summary.eventsWritten += 100 + 200 + 314 + 200;
    await purgeBinaryLogs(admin);

    const lost = startRun(config.file);
    assert.equal(await exitOf(lost, 'the binlog at its token is gone', 45_000), 1, tail(lost));
    const line = lost.output.trim().split('\n').at(-1)!;
    assert.match(line, /^cdc: source s: the log at its token's position \S+ is gone \(binlog purged or change-stream history lost\); set snapshot: when_needed to take a fresh snapshot, or reset the source's token \[POSITION_LOST\]$/);
    assert.ok(!lost.logs.some((log) => log.msg === 'snapshot started'), 'no snapshot without when_needed');
    summary.notes.push(`binlog purged past the token: cdc run exited 1: "${line}"`);

    config.rewrite((options) => ({ ...options, source: { ...options.source, snapshot: 'when_needed' } }));
    const again = startRun(config.file);
    summary.restarts += 2;
    await again.waitForLog('a fresh snapshot', (log) => log.msg === 'snapshot started');
    await again.waitForLog('streaming again', (log) => log.msg === 'streaming');
    await admin.query(`UPDATE ${src}.items SET v = 4 WHERE id <= 10`);
    const after = await untilVerified(config, deadlineMs).catch(() => verifyCli(config));
    assert.equal(await again.stop(), 0, tail(again));
    return after;
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
}

test('binlog purged past the token: cdc run exits 1 with a clear error; with snapshot: when_needed a fresh snapshot converges (inserts, updates and deletes in the lost binlog)', { timeout: 150_000 }, async () => {
  const verified = await purgedPastTheToken(60_000);
  assert.equal(verified.code, 0, verified.output);
  summary.verified(verified.results);
  summary.notes.push('with snapshot: when_needed the restart took a fresh snapshot and the copy converged (cdc verify exit 0)');
});

test('a token topic the broker refuses to write: cdc run exits 1 naming the token commit, and no snapshot starts', { timeout: 120_000 }, async () => {
  const src = faultName('token_src');
  const dst = faultName('token_dst');
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('token'),
    source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: 500 },
    sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
  });
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await admin.query(`CREATE DATABASE ${dst}`);
    await admin.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, v INT NOT NULL)`);
    await admin.query(`INSERT INTO ${src}.items SELECT seq, 0 FROM ${src}.seq_1_to_100`);
    // A token topic that takes no record batch over 128 bytes: the broker refuses every token (MESSAGE_TOO_LARGE).
    await withAdmin((kafka) =>
      kafka.createTopics({
        waitForLeaders: true,
        topics: [{ topic: topics.tokens(config.pipeline), numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'max.message.bytes', value: '128' }] }],
      }),
    );
    const run = startRun(config.file);
    assert.equal(await exitOf(run, 'the token topic refuses the token'), 1, tail(run));
    const line = run.output.trim().split('\n').at(-1)!;
    assert.match(line, /^cdc: .*token.*larger than the max message size/);
    assert.ok(!run.logs.some((log) => log.msg === 'snapshot started' || log.msg === 'token committed'), tail(run));
    assert.deepEqual(await readTopic(topics.change(config.pipeline, 's')), [], 'nothing in the change topic');
    assert.deepEqual(await readTopic(topics.tokens(config.pipeline)), [], 'no token');
    // The sink's own bookkeeping tables (__cdc_sink_*) it makes on start; no table of the source.
    const [tables] = (await admin.query(`SHOW TABLES FROM ${dst}`)) as unknown as [Array<Record<string, string>>];
    const copied = tables.map((row) => Object.values(row)[0]!).filter((table) => !table.startsWith('__cdc_sink_'));
    assert.deepEqual(copied, [], 'nothing reached the sink');
    summary.notes.push(`token topic unwritable: cdc run exited 1 before any snapshot: "${line.slice(0, 200)}"`);
  } finally {
    await cleanUp(
      () => killStrayRuns(),
      () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
      () => admin.query(`DROP DATABASE IF EXISTS ${dst}`),
      () => admin.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
  }
});

test('summary', (t) => {
  summary.report(t, 'position.it.test.ts');
  assert.equal(summary.differences, 0);
});
