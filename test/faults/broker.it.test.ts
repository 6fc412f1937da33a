/**
 * Fault suite, broker: the Kafka broker stopped for 20 s and started again while `cdc run` (MariaDB →
 * Kafka → MariaDB) runs under writes. The broker is a private one (support.ts PrivateKafka, started from
 * the stack's own service code on free ports), so the stack's shared broker never stops.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import {
  cleanUp,
  describeMySqlChange,
  env,
  FaultConfig,
  faultName,
  FaultSummary,
  KeySet,
  killStrayRuns,
  LoadWriter,
  metric,
  missingFromChangeTopic,
  PrivateKafka,
  startRun,
  tail,
  untilVerified,
} from './support.ts';

/** FAULT_BROKER_DOWN_MS lengthens the outage by hand (e.g. 45000) to see the exit path every time. */
const DOWN_MS = Number(process.env.FAULT_BROKER_DOWN_MS ?? 20_000);
const summary = new FaultSummary();
let broker: PrivateKafka | undefined;

before(async () => {
  broker = await PrivateKafka.start('fault-broker');
});

after(async () => {
  await killStrayRuns();
  await broker?.remove();
});

test('the broker stopped for 20 s under writes: cdc run either rides it out or exits 3 naming the brokers and resumes when run again; verify equal, no change missing', { timeout: 240_000 }, async (t) => {
  const src = faultName('broker_src');
  const dst = faultName('broker_dst');
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('broker'),
    brokers: broker!.brokers,
    source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: 1000 },
    sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
  });
  let writer: LoadWriter | undefined;
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await admin.query(`CREATE DATABASE ${dst}`);
    await admin.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, v INT NOT NULL)`);
    await admin.query(`INSERT INTO ${src}.items SELECT seq, 0 FROM ${src}.seq_1_to_2000`);
    const keys = new KeySet(2000, 3);
    let next = 2000;
    const round = async (n: number) => {
      await writerConnection.beginTransaction();
      const id = ++next;
      await writerConnection.query(`INSERT INTO ${src}.items VALUES (?, ?)`, [id, 2 * n + 1]);
      keys.add(id);
      const updated = keys.pick();
      await writerConnection.query(`UPDATE ${src}.items SET v = ? WHERE id = ?`, [2 * n + 2, updated]);
      await writerConnection.commit();
      return [`c ${id} ${2 * n + 1}`, `u ${updated} ${2 * n + 2}`];
    };

    let run = startRun(config.file);
    await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
    writer = new LoadWriter(round, 20);
    await assert.doesNotReject(
      () => untilSinkApplied(run, 2),
      'the sink applies before the broker stops',
    );

    // Real behaviour, either of two, by timing: usually the same process reconnects once the broker is back
    // and catches up (seen with outages of 20-97 s); but a KafkaJS consumer whose group-coordinator lookup
    // gives up first ("Failed to find group coordinator", after its own retries; also while the broker is
    // starting again) ends the run: `cdc run` exits 3 with one line naming the brokers, and a new run
    // resumes from the committed tokens and offsets.
    const stoppedAt = Date.now();
    await broker!.shutdown(30_000);
    const exitedWhileDown = await Promise.race([run.exited.then(() => Date.now() - stoppedAt), new Promise<undefined>((resolve) => setTimeout(resolve, DOWN_MS))]);
    await broker!.restart();
    const downFor = Math.round((Date.now() - stoppedAt) / 1000);
    const appliedBefore = exitedWhileDown === undefined ? await metric(run, 'cdc_sink_apply_seconds_count').catch(() => undefined) : undefined;
    const outcome = await Promise.race([
      run.exited.then((code) => ({ code })),
      appliedBefore === undefined ? new Promise<never>(() => {}) : untilSinkApplied(run, appliedBefore + 2).then(() => ({ code: undefined })),
    ]);
    if (outcome.code !== undefined) {
      assert.equal(outcome.code, 3, run.output.split('\n').filter((l) => !l.includes('"level":"warn"')).slice(-60).join('\n'));
      const line = run.output.trim().split('\n').at(-1)!;
      assert.match(line, new RegExp(`^cdc: kafka ${broker!.brokers}: unavailable while running \\(.+\\); the pipeline stopped at its last committed tokens and offsets: run it again once the brokers answer \\[UNREACHABLE\\]$`));
      const when = exitedWhileDown === undefined ? 'after the broker was back' : `${Math.round(exitedWhileDown / 1000)} s after the stop`;
      summary.notes.push(`broker down ${downFor} s: cdc run exited 3 ${when}: "${line}"; a new run resumed and caught up`);
      summary.restarts++;
      run = startRun(config.file);
    } else {
      summary.notes.push(`broker down ${downFor} s: cdc run kept running, reconnected and applied again (KafkaJS's retries outlasted the outage)`);
    }
    const written = await writer.stop();
    summary.eventsWritten += written.length;
    const verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    assert.equal(await run.stop(), 0, tail(run));
    const { missing, extra } = await missingFromChangeTopic(config.pipeline, written, describeMySqlChange, broker!.brokers);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} changes missing from the change topic`);
    assert.deepEqual(extra.slice(0, 20), [], `${extra.length} changes in the topic the writer never made`);
  } finally {
    await cleanUp(
      () => writer?.stop(),
      () => killStrayRuns(),
      () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
      () => admin.query(`DROP DATABASE IF EXISTS ${dst}`),
      () => admin.end(),
      () => writerConnection.end(),
      () => config.remove(),
    );
    summary.report(t, 'broker.it.test.ts');
  }
});

async function untilSinkApplied(run: ReturnType<typeof startRun>, batches: number): Promise<void> {
  const giveUp = Date.now() + 90_000;
  while ((await metric(run, 'cdc_sink_apply_seconds_count')) < batches) {
    if (Date.now() > giveUp) throw new Error(`the sink never applied ${batches} batches\n${tail(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
