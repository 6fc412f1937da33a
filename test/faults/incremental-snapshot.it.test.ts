/**
 * Incremental snapshots end to end (docs/incremental-snapshots.md): `cdc run` of MariaDB → Kafka →
 * MariaDB in child processes, requests sent with `cdc snapshot`, and a plain consumer of the change topic
 * (@kafkajs/confluent-schema-registry's decode, last event per key). Each pipeline starts with
 * `snapshot: never` after its tables are filled (or snapshots only some of its tables), so an
 * incremental snapshot is the only way their existing rows reach Kafka:
 *
 * 1. a 200,000-row table snapshotted while a load updates, deletes and inserts rows of it and of another
 *    table, whose commit-to-sink latency during the snapshot is measured (printed, not asserted);
 * 2. `cdc run` SIGKILLed twice during a snapshot and restarted: it resumes at its chunk, reading at most
 *    one chunk again per kill;
 * 3. a table added to `include`: on restart only its rows arrive as `r` events; `cdc status` shows it
 *    captured since then;
 * 4. the notifications of one request on the real notifications topic, in the documented order, and a
 *    request for a table the source does not capture, refused (exit 4).
 *
 * Each time `cdc verify` finds the sink equal to the source, and the plain consumer holds the source.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { quoteIdentifier, quoteTable } from '../../connectors/mysql/sql.ts';
import { parseNotification, type NotificationRecord } from '../../topology/notifications.ts';
import type { SnapshotRequestResult } from '../../topology/snapshot-request.ts';
import { topics } from '../../topology/topics.ts';
import { createEventsTable, EVENTS_TABLE, latencyOf, watchLatency, writeBacklog, Writer, type LatencyWatch } from '../../scripts/bench/change-load.ts';
import type { PipelineStatus } from '../../cli/commands/status.ts';
import { cdc, shown, type BackgroundRun } from '../cli/support/cli.ts';
import { SourceWriter } from '../connectors/mysql/cli-pipeline.ts';
import {
  assertSameRows,
  cleanUp,
  deleteTopics,
  env,
  FaultConfig,
  faultName,
  FaultSummary,
  killDuringIncrementalSnapshot,
  killStrayRuns,
  lastEventPerKey,
  LoadWriter,
  opCounts,
  plainChanges,
  readTopic,
  SOURCE,
  sourceStatusOf,
  startRun,
  tableRows,
  tail,
  until,
  untilVerified,
  type PlainChange,
} from './support.ts';

const summary = new FaultSummary();

after(() => killStrayRuns());

interface Pipeline {
  config: FaultConfig;
  admin: mysql.Connection;
  /** The source database, and the sink's target database, on the stack's MariaDB. */
  src: string;
  dst: string;
}

/** A MariaDB → Kafka → MariaDB pipeline of fresh databases and topics, removed after `body`. */
async function withPipeline(name: string, source: { chunkSize: number; snapshot?: string; tables?: string[] }, body: (pipeline: Pipeline) => Promise<void>): Promise<void> {
  const src = faultName(`${name}_src`);
  const dst = faultName(`${name}_dst`);
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({ pipeline: faultName(name), source: { type: 'mysql', url: env.MYSQL_URL, db: src, ...source }, sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` } });
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(src)}`);
    await admin.query(`CREATE DATABASE ${quoteIdentifier(dst)}`);
    await body({ config, admin, src, dst });
  } finally {
    await cleanUp(
      () => killStrayRuns(config.file),
      () => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(src)}`),
      () => admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(dst)}`),
      () => admin.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
  }
}

/** A table `(id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)` of `rows` rows (ids 1…rows), as SourceWriter writes it. */
async function createFilledTable(admin: mysql.Connection, db: string, table: string, rows: number): Promise<void> {
  await admin.query(`CREATE TABLE ${quoteTable(db, table)} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
  await admin.query(`INSERT INTO ${quoteTable(db, table)} SELECT seq, 0, CONCAT('row ', seq) FROM ${quoteTable(db, `seq_1_to_${rows}`)}`);
}

/** `cdc snapshot --json` to its end: its exit code, the notifications it printed, and its result. */
async function cdcSnapshot(config: FaultConfig, tables: readonly string[], ...options: string[]): Promise<{ code: number | null; notifications: NotificationRecord[]; result: SnapshotRequestResult; stderr: string }> {
  const run = await cdc(['snapshot', '--config', config.file, '--source', SOURCE, ...tables.flatMap((table) => ['--table', table]), '--json', ...options]);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(lines.length > 0, `cdc snapshot printed nothing (exit ${String(run.code)}): ${run.stderr}`);
  return { code: run.code, notifications: lines.slice(0, -1) as NotificationRecord[], result: lines.at(-1) as SnapshotRequestResult, stderr: run.stderr };
}

type RequestNotification = Extract<NotificationRecord, { id: string }>;

/**
 * The records on the pipeline's notifications topic, in order, about the request for exactly `tables` (one
 * per test). Found by its tables: the id `cdc snapshot` prints may have the config's password masked in it.
 */
async function notificationsOf(config: FaultConfig, tables: readonly string[]): Promise<RequestNotification[]> {
  const records = (await readTopic(topics.notifications(config.pipeline))).map((record) => parseNotification(record.value)!);
  const requested = records.find((notification) => notification.type === 'incremental-requested' && notification.tables.join() === tables.join());
  assert.ok(requested?.type === 'incremental-requested', `no request for ${tables.join(', ')} on the notifications topic`);
  return records.filter((notification): notification is RequestNotification => 'id' in notification && notification.id === requested.id);
}

/** A value as `cdc --json` prints it: the config's passwords masked wherever they appear. */
function printed<T>(value: T): T {
  return JSON.parse(shown(JSON.stringify(value))) as T;
}

/** The `r` records of each key of `table`. */
function snapshotReads(changes: readonly PlainChange[], table: string): Map<string, number> {
  const reads = new Map<string, number>();
  for (const { table: of, op, key } of changes) if (of === table && op === 'r') reads.set(key!, (reads.get(key!) ?? 0) + 1);
  return reads;
}

/** Rows read again: `r` records beyond one per key. */
function readAgain(reads: ReadonlyMap<string, number>): number {
  let again = 0;
  for (const count of reads.values()) again += count - 1;
  return again;
}

async function stopRun(run: BackgroundRun): Promise<void> {
  assert.equal(await run.stop(), 0, tail(run));
}

test('a 200,000-row table snapshotted incrementally while a load updates, deletes and inserts rows of it and of another table: verify equal, a plain consumer holds the source', { timeout: 300_000 }, async () => {
  const ROWS = 200_000;
  await withPipeline('inc_big', { chunkSize: 10_000, snapshot: 'never' }, async ({ config, admin, src, dst }) => {
    const startedAt = performance.now();
    await createFilledTable(admin, src, 'big', ROWS);
    await createEventsTable(admin, src);
    // Pre-created in the target, so the latency watch can poll it before the first row arrives.
    await createEventsTable(admin, dst);
    const loadedSeconds = (performance.now() - startedAt) / 1000;
    const run = startRun(config.file);
    const bigWriterConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
    const writers = await Writer.openAll(env.MYSQL_URL, src);
    let bigWriter: SourceWriter | undefined;
    let otherWriter: LoadWriter | undefined;
    let latency: LatencyWatch | undefined;
    try {
      await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
      // Rows for the other table's load to update and delete.
      await writeBacklog(writers, 2000);

      // The other table: per round an insert (its row marks commit → visible in the sink while the snapshot
      // runs), an update, every 4th round a delete of the oldest row. Updates are not marked: a row they
      // change may be deleted before it is seen.
      const watch = watchLatency(env.MYSQL_URL, dst);
      latency = watch;
      let measuring = false;
      otherWriter = new LoadWriter(async (n) => {
        const writer = writers[n % writers.length]!;
        await writer.transaction(1);
        if (measuring) watch.add(writer.lastChange);
        await writer.transaction(0);
        if (n % 4 === 3) await writer.deleteOldest();
        return n % 4 === 3 ? ['c', 'u', 'd'] : ['c', 'u'];
      });
      bigWriter = new SourceWriter(bigWriterConnection, quoteTable(src, 'big'), ROWS);

      const request = await cdcSnapshot(config, [`${src}.big`]);
      assert.equal(request.result.status, 'accepted', JSON.stringify(request.result));
      measuring = true;
      const measuredFrom = otherWriter.written.length;
      await until('the snapshot finished', async () => (await sourceStatusOf(config)).incremental.length === 0, 240_000, 200);
      measuring = false;
      const otherChangesDuring = otherWriter.written.length - measuredFrom;
      const bigRounds = await bigWriter.stop();
      const otherChanges = (await otherWriter.stop()).length;
      await until('every marker of the other table in the sink', () => watch.pending() === 0, 60_000);
      summary.eventsWritten += otherChanges + bigRounds * 2;
      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      summary.verified(verified.results);
      // Stopped before its notifications are read: a notification is written after the token it announces.
      await stopRun(run);

      const answer = await notificationsOf(config, [`${src}.big`]);
      const snapshotted = answer.find((notification) => notification.type === 'incremental-table-snapshotted');
      assert.ok(snapshotted?.type === 'incremental-table-snapshotted', `the snapshot's notifications: ${JSON.stringify(answer)}`);
      // From the source taking the request to the last chunk durable in Kafka.
      const snapshotSeconds = (snapshotted.at - answer[0]!.at) / 1000;
      const measured = latencyOf(await watch.stop(), otherChangesDuring / snapshotSeconds);

      const changes = await plainChanges(config.pipeline);
      const consumed = lastEventPerKey(changes);
      assertSameRows(consumed.get(`${src}.big`), await tableRows(admin, src, 'big'), 'the plain consumer holds the big table');
      assertSameRows(consumed.get(`${src}.${EVENTS_TABLE}`), await tableRows(admin, src, EVENTS_TABLE), 'the plain consumer holds the other table');
      const reads = snapshotReads(changes, `${src}.big`);
      assert.equal(readAgain(reads), 0, 'without a crash no row is read twice');
      assert.equal(snapshotted.rows, reads.size, 'the notification counts the r events in the change topic');
      assert.equal(opCounts(changes, `${src}.${EVENTS_TABLE}`).r, undefined, 'no r event of the other table');

      summary.notes.push(
        `200k rows: loaded in ${loadedSeconds.toFixed(1)} s; snapshotted incrementally in ${snapshotSeconds.toFixed(1)} s (${Math.round(ROWS / snapshotSeconds)} rows/s, ${reads.size} r events) ` +
          `under ${bigRounds} writer rounds on it and ${otherChanges} changes of the other table (${measured.ratePerSecond}/s during the snapshot); ` +
          `the other table's commit → sink latency during the snapshot: p50 ${measured.p50} ms, p99 ${measured.p99} ms, max ${measured.max} ms (${measured.samples} markers); whole test ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
      );
    } finally {
      await cleanUp(
        () => bigWriter?.stop(),
        () => otherWriter?.stop(),
        () => latency?.stop(),
        () => bigWriterConnection.end(),
        ...writers.map((writer) => () => writer.close()),
      );
    }
  });
});

test('cdc run SIGKILLed twice during an incremental snapshot under writes, restarted each time: it resumes at its chunk, reading at most one chunk again per kill; verify equal, a plain consumer holds the source', { timeout: 300_000 }, async () => {
  // Chunks larger than a source write (2000 events, one Kafka transaction), so a kill can land between
  // a chunk's first rows and the token after it: those rows are read again on restart.
  const ROWS = 80_000;
  const CHUNK = 5_000;
  await withPipeline('inc_kill', { chunkSize: CHUNK, snapshot: 'never' }, async ({ config, admin, src }) => {
    await createFilledTable(admin, src, 'items', ROWS);
    const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
    let writer: SourceWriter | undefined;
    try {
      let run = startRun(config.file);
      await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
      writer = new SourceWriter(writerConnection, quoteTable(src, 'items'), ROWS);
      const request = await cdcSnapshot(config, [`${src}.items`]);
      assert.equal(request.result.status, 'accepted', JSON.stringify(request.result));
      // The second kill at a chunk the restarted process emitted: each kill interrupts another process.
      let kills = 0;
      for (const chunks of [3, 8]) {
        if (!(await killDuringIncrementalSnapshot(run, config, chunks, summary))) break;
        kills++;
        run = startRun(config.file);
        summary.restarts++;
      }
      assert.equal(kills, 2, 'both kills landed during the snapshot');
      await until('the snapshot finished', async () => (await sourceStatusOf(config)).incremental.length === 0, 180_000, 500);
      const rounds = await writer.stop();
      summary.eventsWritten += rounds * 2;
      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      summary.verified(verified.results);
      await stopRun(run);

      // The documented order, each notification at least once (a kill may repeat one).
      const answer = (await notificationsOf(config, [`${src}.items`])).map(({ type }) => type);
      assert.deepEqual(
        answer.filter((type, i) => type !== answer[i - 1]),
        ['incremental-requested', 'incremental-accepted', 'incremental-table-snapshotted', 'incremental-finished'],
        `the request's notifications: ${answer.join(', ')}`,
      );
      const changes = await plainChanges(config.pipeline);
      assertSameRows(lastEventPerKey(changes).get(`${src}.items`), await tableRows(admin, src, 'items'), 'the plain consumer holds the table');
      const reads = snapshotReads(changes, `${src}.items`);
      const again = readAgain(reads);
      assert.ok(again <= kills * CHUNK, `${again} rows read again after ${kills} kills: more than one chunk (${CHUNK} rows) per kill`);
      summary.notes.push(`SIGKILLed ${kills} times during an incremental snapshot of ${ROWS} rows (chunks of ${CHUNK}) under ${rounds} writer rounds: ${reads.size} keys read, ${again} rows read again`);
    } finally {
      await cleanUp(
        () => writer?.stop(),
        () => writerConnection.end(),
      );
    }
  });
});

test('a table added to include is snapshotted incrementally on restart, and only it: no r event of the other tables; cdc status shows the tables captured and since when; verify equal', { timeout: 300_000 }, async () => {
  const ROWS = { a: 2000, b: 2000, c: 3000 };
  await withPipeline('inc_added', { chunkSize: 1000, tables: ['a', 'b'] }, async ({ config, admin, src }) => {
    for (const [table, rows] of Object.entries(ROWS)) await createFilledTable(admin, src, table, rows);
    const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
    let writer: SourceWriter | undefined;
    try {
      const first = startRun(config.file);
      await first.waitForLog('the initial snapshot of a and b done', (line) => line.msg === 'streaming');
      // Writes to a captured table before, during and after the restart: streamed, never read.
      writer = new SourceWriter(writerConnection, quoteTable(src, 'a'), ROWS.a);
      await stopRun(first);
      const before = await plainChanges(config.pipeline);

      config.rewrite((options) => ({ ...options, source: { ...options.source, tables: ['a', 'b', 'c'] } }));
      const restartedAt = Date.now();
      const second = startRun(config.file);
      await until('c captured and snapshotted', async () => {
        const source = await sourceStatusOf(config);
        return source.captured?.some(({ table }) => table === `${src}.c`) === true && source.incremental.length === 0;
      }, 120_000, 200);
      const statusRun = await cdc(['status', '--json', '--config', config.file]);
      assert.equal(statusRun.code, 0, statusRun.stderr);
      const source = (JSON.parse(statusRun.stdout) as PipelineStatus).sources.find(({ name }) => name === SOURCE);
      assert.ok(source?.captured, `cdc status shows the tables captured: ${statusRun.stdout}`);
      assert.deepEqual(source.incremental, [], 'no incremental snapshot left');
      const { captured } = source;
      const name = (table: string) => shown(`${src}.${table}`);
      assert.deepEqual(captured.map(({ table }) => table), [name('a'), name('b'), name('c')]);
      const since = new Map(captured.map(({ table, since }) => [table, Date.parse(since)]));
      assert.ok(since.get(name('a'))! < restartedAt && since.get(name('b'))! < restartedAt, `a and b captured since the first start: ${JSON.stringify(captured)}`);
      assert.ok(since.get(name('c'))! >= restartedAt, `c captured since the restart: ${JSON.stringify(captured)}`);

      const rounds = await writer.stop();
      summary.eventsWritten += rounds * 2;
      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      summary.verified(verified.results);
      await stopRun(second);

      const changes = await plainChanges(config.pipeline);
      for (const table of ['a', 'b']) assert.equal(opCounts(changes, `${src}.${table}`).r, opCounts(before, `${src}.${table}`).r, `no new r event of ${table}`);
      assert.deepEqual(opCounts(changes, `${src}.c`), { r: ROWS.c }, 'c: one r event per row, nothing else');
      assert.equal(snapshotReads(changes, `${src}.c`).size, ROWS.c);
      const consumed = lastEventPerKey(changes);
      for (const table of Object.keys(ROWS)) assertSameRows(consumed.get(`${src}.${table}`), await tableRows(admin, src, table), `the plain consumer holds ${table}`);
      summary.notes.push(`include widened to a third table: ${ROWS.c} r events of it alone, under ${rounds} writer rounds on a captured table; captured ${captured.map(({ table, since }) => `${table} since ${since}`).join(', ')}`);
    } finally {
      await cleanUp(
        () => writer?.stop(),
        () => writerConnection.end(),
      );
    }
  });
});

test('the notifications of a request on the notifications topic, in the documented order, with each table\'s rows; a request for a table not captured is refused (exit 4)', { timeout: 300_000 }, async () => {
  const ROWS = { x: 1500, y: 2500 };
  const CHUNK = 1000;
  await withPipeline('inc_notify', { chunkSize: CHUNK, snapshot: 'never' }, async ({ config, admin, src }) => {
    for (const [table, rows] of Object.entries(ROWS)) await createFilledTable(admin, src, table, rows);
    const run = startRun(config.file);
    await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
    const x = `${src}.x`;
    const y = `${src}.y`;
    const nope = `${src}.nope`;
    const request = await cdcSnapshot(config, [x, y, nope], '--wait', 'finished');
    assert.equal(request.code, 0, request.stderr);
    const onTopic = await notificationsOf(config, [x, y, nope]);
    const { id } = onTopic[0]!;
    assert.deepEqual(request.notifications, printed(onTopic), 'cdc snapshot printed the records of the notifications topic');
    const refusedNope = { table: nope, reason: `source ${SOURCE} does not capture ${nope}` };
    assert.deepEqual(
      onTopic.map(({ at: _at, pipeline: _pipeline, ...notification }) => ('durationMs' in notification ? { ...notification, durationMs: typeof notification.durationMs } : notification)),
      [
        { type: 'incremental-requested', id, tables: [x, y, nope], source: SOURCE },
        { type: 'incremental-accepted', id, tables: [x, y], refused: [refusedNope], source: SOURCE },
        { type: 'incremental-table-snapshotted', id, table: x, rows: ROWS.x, chunks: Math.floor(ROWS.x / CHUNK) + 1, durationMs: 'number', source: SOURCE },
        { type: 'incremental-table-snapshotted', id, table: y, rows: ROWS.y, chunks: Math.floor(ROWS.y / CHUNK) + 1, durationMs: 'number', source: SOURCE },
        { type: 'incremental-finished', id, tables: [x, y], source: SOURCE },
      ],
    );
    assert.deepEqual(request.result, printed({ status: 'finished', request: { ...request.result.request, id }, tables: [x, y], refused: [refusedNope] }));

    const asked = performance.now();
    const refused = await cdcSnapshot(config, [nope]);
    const exitedMs = Math.round(performance.now() - asked);
    assert.equal(refused.code, 4, refused.stderr);
    assert.equal(refused.result.status, 'refused');
    const reason = `source ${SOURCE} does not capture ${nope} (it captures ${x}, ${y})`;
    const answer = await notificationsOf(config, [nope]);
    assert.deepEqual(answer.map(({ type }) => type), ['incremental-requested', 'incremental-refused']);
    assert.deepEqual(refused.notifications, printed(answer), 'cdc snapshot printed the records of the notifications topic');
    assert.equal(refused.stderr, `cdc: ${shown(`source ${SOURCE} refused request ${answer[0]!.id}: ${reason}`)}\n`);
    const answeredMs = answer[1]!.at - refused.result.request.requestedAt;

    const verified = await untilVerified(config);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    await stopRun(run);
    summary.notes.push(`notifications of a request for 2 tables and 1 unknown: requested, accepted, 2 × table-snapshotted, finished; a request for an unknown table refused ${answeredMs} ms after it was sent, cdc snapshot exited 4 after ${exitedMs} ms (its start and its notifications follower's group join included)`);
  });
});

test('summary', (t) => {
  summary.report(t, 'incremental-snapshot.it.test.ts');
  assert.equal(summary.differences, 0);
});
