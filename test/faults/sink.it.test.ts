/**
 * Fault suite, sink side: the target MariaDB killed (SIGKILL) and later shut down (SIGTERM) while `cdc run`
 * applies batches, then the same range of the repartition topic applied a second time (`cdc replay
 * --from p:o,...` and another run). The target is a private MariaDB (private-mariadb.ts), so the stack's
 * shared one never stops. test/connectors/mysql/sink-restart.it.test.ts proves the restart row for row
 * on SinkRunner with 300k events; this is the lighter end-to-end check through the CLI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { topics } from '../../topology/topics.ts';
import { cdc } from '../cli/support/cli.ts';
import { PrivateMariaDb } from '../connectors/support/private-mariadb.ts';
import { withAdmin } from '../topology/fixtures/kafka-kit.ts';
import {
  cleanUp,
  deleteTopics,
  env,
  FaultConfig,
  faultName,
  FaultSummary,
  KeySet,
  killStrayRuns,
  LoadWriter,
  metric,
  readTopic,
  startRun,
  tail,
  until,
  untilVerified,
} from './support.ts';

const summary = new FaultSummary();
const TARGET_DB = 'fault_target';
let target: PrivateMariaDb | undefined;

before(async () => {
  target = await PrivateMariaDb.start('fault-target');
  const connection = await mysql.createConnection(target.url());
  await connection.query(`CREATE DATABASE ${TARGET_DB}`);
  await connection.end();
});

after(async () => {
  await killStrayRuns();
  await target?.remove();
});

test('the target restarted during apply, then a range of the repartition topic applied twice: the sink retries, and verify finds it equal both times', { timeout: 240_000 }, async (t) => {
  const ROWS = 20_000;
  const src = faultName('sink_src');
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('sink'),
    source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: 2000 },
    sink: { type: 'mysql', url: target!.url(TARGET_DB) },
  });
  let writer: LoadWriter | undefined;
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await admin.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, v INT NOT NULL, name VARCHAR(64) NOT NULL UNIQUE)`);
    await admin.query(`INSERT INTO ${src}.items SELECT seq, 0, CONCAT('item ', seq) FROM ${src}.seq_1_to_${ROWS}`);
    const keys = new KeySet(ROWS, 5);
    let next = ROWS;
    const round = async (n: number) => {
      await writerConnection.beginTransaction();
      const id = ++next;
      await writerConnection.query(`INSERT INTO ${src}.items VALUES (?, ?, ?)`, [id, n, `item ${id}`]);
      keys.add(id);
      // Two rows swap their unique names through a temporary one, in one transaction.
      const [a, b] = [keys.pick(), keys.pick()];
      const [rows] = (await writerConnection.query(`SELECT id, name FROM ${src}.items WHERE id IN (?, ?) FOR UPDATE`, [a, b])) as unknown as [Array<{ id: number; name: string }>];
      if (rows.length === 2) {
        await writerConnection.query(`UPDATE ${src}.items SET name = ? WHERE id = ?`, [`swap ${n}`, rows[0]!.id]);
        await writerConnection.query(`UPDATE ${src}.items SET name = ? WHERE id = ?`, [rows[0]!.name, rows[1]!.id]);
        await writerConnection.query(`UPDATE ${src}.items SET name = ? WHERE id = ?`, [rows[1]!.name, rows[0]!.id]);
      }
      await writerConnection.query(`UPDATE ${src}.items SET v = ? WHERE id = ?`, [n + 1, keys.pick()]);
      await writerConnection.commit();
      return ['c', 'u', 'u'];
    };

    const run = startRun(config.file);
    await run.waitForLog('the first token', (line) => line.msg === 'token committed');
    writer = new LoadWriter(round, 10);
    const applied = () => metric(run, 'cdc_sink_apply_seconds_count');
    for (const { how, stop } of [
      { how: 'SIGKILL', stop: () => target!.kill() },
      { how: 'SIGTERM', stop: () => target!.shutdown() },
    ]) {
      const before = await applied();
      await until(`the sink applies batches before the ${how}`, async () => (await applied()) >= before + 2, 90_000, 20);
      await stop();
      const retries = run.logs.filter((line) => line.msg === 'sink retrying').length;
      await run.waitForLog(`a failed apply retried after the ${how}`, (line) => line.msg === 'sink retrying' && run.logs.filter((l) => l.msg === 'sink retrying').length > retries, 60_000);
      await target!.restart();
      summary.restarts++;
      const after = await applied();
      await until(`the sink applies again after the ${how}`, async () => (await applied()) > after, 90_000, 100);
    }
    const retried = run.logs.filter((line) => line.msg === 'sink retrying');
    summary.notes.push(`target killed and shut down during apply: ${retried.length} retried applies (${[...new Set(retried.map((line) => String(line.err ?? '').slice(0, 60)))].slice(0, 3).join(' | ')}), the pipeline never exited`);
    assert.ok(!run.output.includes('"msg":"pipeline failed"'), tail(run));
    summary.eventsWritten += (await writer.stop()).length;
    let verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    assert.equal(await run.stop(), 0, tail(run));

    // Duplicate delivery: the second half of every partition of the repartition topic, applied again.
    const ends = await withAdmin((kafka) => kafka.fetchTopicOffsets(topics.repartition(config.pipeline)));
    const from = ends.map(({ partition, low, high }) => ({ partition, offset: Math.floor((Number(low) + Number(high)) / 2), high: Number(high) }));
    // Records, not offsets: the repartition topic also holds transaction markers (a source writes each
    // snapshot-end marker there in its transaction), which take offsets and are never delivered.
    const repartitioned = await readTopic(topics.repartition(config.pipeline));
    const replayed = repartitioned.filter((record) => Number(record.offset) >= from.find((range) => range.partition === record.partition)!.offset).length;
    const reset = await cdc(['replay', '--config', config.file, '--sink', 'copy', '--from', from.map(({ partition, offset }) => `${partition}:${offset}`).join(',')]);
    assert.equal(reset.code, 0, reset.stdout + reset.stderr);
    const again = startRun(config.file);
    await until(`the replayed ${replayed} records are applied again`, async () => (await metric(again, 'cdc_events_in_total', 'stage="sink:copy"')) >= replayed, 90_000, 200);
    verified = await untilVerified(config, 30_000);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    assert.equal(await again.stop(), 0, tail(again));
    summary.notes.push(`replay: ${replayed} records of the repartition topic (the second half of each partition) applied a second time; the target stayed equal`);
  } finally {
    await cleanUp(
      () => writer?.stop(),
      () => killStrayRuns(),
      () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
      () => admin.end(),
      () => writerConnection.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
    summary.report(t, 'sink.it.test.ts');
  }
});
