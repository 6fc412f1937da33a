/**
 * A spread snapshot end to end (docs/spread-snapshot.md): two `cdc run` processes of one MariaDB → Kafka →
 * MariaDB pipeline with `spreadSnapshot: true` share the key ranges of one table's initial snapshot while
 * a load updates, deletes and inserts its rows; the process that owns the source is SIGKILLed as soon as
 * it has written a range, and the test checks that ranges were left then. The survivor takes the source over from its
 * token and the published ranges, and the ranges the dead process had not finished are read again by the
 * survivor.
 *
 * Then `cdc verify` finds the sink equal to the source, and a plain consumer of the change topic
 * (registry decode, last event per key) holds the source's table.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { quoteIdentifier, quoteTable } from '../../connectors/mysql/sql.ts';
import type { SnapshotWork, SnapshotWorkDone } from '../../topology/spread-snapshot.ts';
import { topics } from '../../topology/topics.ts';
import type { BackgroundRun } from '../cli/support/cli.ts';
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
  latestSourceToken,
  plainChanges,
  readTopic,
  startRun,
  tableRows,
  tail,
  until,
  untilVerified,
} from './support.ts';

const summary = new FaultSummary();

after(() => killStrayRuns());

/** The ranges a run logged as written (its worker's share), in the order it wrote them. */
function rangesWritten(run: BackgroundRun): number[] {
  return run.logs.filter((line) => line.msg === 'snapshot range written').map((line) => Number(line.range));
}

/** The ranges of `done` that `run` wrote (a done record names its worker `host:pid`). */
function doneBy(done: readonly SnapshotWorkDone[], run: BackgroundRun): number[] {
  return done.filter((range) => range.worker.endsWith(`:${run.pid}`)).map((range) => range.index);
}

/** When `run` last started the source's snapshot (it owns the source since then, until a rebalance). */
function ownedSince(run: BackgroundRun): number {
  return Math.max(-1, ...run.logs.filter((line) => line.msg === 'snapshot started').map((line) => Date.parse(String(line.time))));
}

test('two cdc run processes share one table\'s spread snapshot under writes; the owner SIGKILLed mid-way: no range lost, verify equal, a plain consumer holds the table', { timeout: 240_000 }, async (t) => {
  const ROWS = 150_000;
  const CHUNK = 5_000;
  const src = faultName('spread_src');
  const dst = faultName('spread_dst');
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({ pipeline: faultName('spread'), source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: CHUNK, spreadSnapshot: true }, sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` } });
  let writer: SourceWriter | undefined;
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(src)}`);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(dst)}`);
    await admin.query(`CREATE TABLE ${quoteTable(src, 'big')} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
    await admin.query(`INSERT INTO ${quoteTable(src, 'big')} SELECT seq, 0, CONCAT('row ', seq) FROM ${quoteTable(src, `seq_1_to_${ROWS}`)}`);

    const startedAt = performance.now();
    const runs = [startRun(config.file), startRun(config.file)];
    writer = new SourceWriter(writerConnection, quoteTable(src, 'big'), ROWS);
    const table = `${src}.big`;
    /** What a process taking the source over resumes: the plan its newest durable token records. */
    const recordedPlan = async () => (await latestSourceToken(config))?.snapshot?.[table]?.spread;
    const doneOf = async (id: string) => (await readTopic(topics.snapshotDone(config.pipeline))).map((record) => JSON.parse(record.value!.toString()) as SnapshotWorkDone).filter((range) => range.snapshot === id);
    // The owner (the process that started the snapshot last) dies as soon as its log shows a range written
    // (polled every 20 ms: on a quiet machine the whole table takes about a second, too little to read
    // topics in between, and the other process may join only near its end). That ranges of the plan its
    // token records were left then is checked after; the survivor reads them.
    const owning = () => (ownedSince(runs[0]!) > ownedSince(runs[1]!) ? [runs[0]!, runs[1]!] : [runs[1]!, runs[0]!]);
    await until('the owner wrote a range', () => {
      for (const run of runs) if (run.logs.some((line) => line.msg === 'streaming')) throw new Error(`the snapshot finished before the owner wrote a range:\n${tail(runs[0]!)}\n${tail(runs[1]!)}`);
      const [candidate] = owning();
      return ownedSince(candidate!) >= 0 && rangesWritten(candidate!).length > 0;
    }, 120_000, 20);
    const [owner, survivor] = owning() as [BackgroundRun, BackgroundRun];
    const killedAt = Date.now();
    owner.kill();
    await owner.exited;
    summary.killed('spread snapshot (the owner)');
    const ownerRanges = rangesWritten(owner);

    await survivor.waitForLog('the survivor streams', (line) => line.msg === 'streaming', 120_000);
    const snapshotSeconds = (performance.now() - startedAt) / 1000;
    const afterKillSeconds = (Date.now() - killedAt) / 1000;
    const resumedAt = survivor.logs.filter((line) => line.msg === 'spread snapshot resumed: waiting for the ranges not done').map((line) => Date.parse(String(line.time)));
    assert.ok(resumedAt.some((time) => time > ownedSince(owner)), 'the survivor took the source over from the published ranges after the owner died');
    const plan = await recordedPlan();
    assert.ok(plan !== undefined, 'the token records the plan');
    // A done record carries the time its writer sent it: those stamped up to the kill were done before it.
    const doneBeforeKill = new Set(
      (await readTopic(topics.snapshotDone(config.pipeline)))
        .filter((record) => record.timestamp <= killedAt)
        .map((record) => JSON.parse(record.value!.toString()) as SnapshotWorkDone)
        .filter((range) => range.snapshot === plan.id)
        .map((range) => range.index),
    );
    assert.ok(doneBeforeKill.size < plan.ranges, `the owner died with ranges of the plan left (${doneBeforeKill.size} of ${plan.ranges} done before the kill)`);
    const rounds = await writer.stop();
    summary.eventsWritten += rounds * 2;
    const verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    assert.equal(await survivor.stop(), 0, tail(survivor));

    // The plan published once, every range of it done; who did which.
    const { id, ranges } = plan;
    const published = (await readTopic(topics.snapshotWork(config.pipeline))).map((record) => JSON.parse(record.value!.toString()) as SnapshotWork);
    const work = published.filter((range) => range.snapshot === id);
    assert.deepEqual(work.map((range) => range.index).sort((a, b) => a - b), [...Array(ranges).keys()], 'each range of the plan published once');
    const unrecordedPlans = new Set(published.map((range) => range.snapshot)).size - 1;
    const done = await doneOf(id);
    assert.deepEqual([...new Set(done.map((range) => range.index))].sort((a, b) => a - b), [...Array(ranges).keys()], 'every range done');
    // Attributed by the done records (a log line still buffered when the process was killed is lost).
    const [ownerDone, survivorDone] = [doneBy(done, owner), doneBy(done, survivor)];
    assert.equal(ownerDone.length + survivorDone.length, done.length, 'every done record is one of the two processes\'');
    assert.ok(ownerDone.length > 0 && survivorDone.length > 0, 'both processes wrote ranges');
    const readTwice = done.length - ranges;

    const consumed = lastEventPerKey(await plainChanges(config.pipeline));
    assertSameRows(consumed.get(`${src}.big`), await tableRows(admin, src, 'big'), 'the plain consumer holds the table');

    summary.notes.push(
      `${ROWS} rows in ${ranges} ranges of ${CHUNK}: the owner (killed) wrote ranges ${ownerDone.join(' ')} (logged: ${ownerRanges.join(' ')}); the survivor wrote ranges ${survivorDone.join(' ')} ` +
        `(${readTwice} range(s) done twice; ${unrecordedPlans} plan(s) published in a handover and recorded by no token); snapshot to streaming in ${snapshotSeconds.toFixed(1)} s (${afterKillSeconds.toFixed(1)} s after the kill, ` +
        `the broker's 6 s session timeout included) under ${rounds} writer rounds`,
    );
  } finally {
    await cleanUp(
      () => writer?.stop(),
      () => killStrayRuns(config.file),
      () => writerConnection.end(),
      () => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(src)}`),
      () => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(dst)}`),
      () => admin.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
    summary.report(t, 'spread-snapshot.it.test.ts');
  }
});
