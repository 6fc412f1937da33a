/**
 * Snapshot and streaming throughput of the MySQL source on the stack's MariaDB for a 10-column table,
 * measured two ways:
 * - into Kafka: the pipeline `cdc run` builds for a config without sinks (cli/pipeline.ts: source stage →
 *   Avro on the stack's schema registry → change topic; no repartition stage, like a Debezium source
 *   connector), Kafka transactions on as by default. Snapshot: from start() until the snapshot's last rows and its streaming
 *   token are durable. Streaming: a pipeline started (snapshot: never) before the rows were inserted, then
 *   stopped, is started again, timed until every inserted row's event is durable in its change topic;
 * - the connector alone: events counted, not written anywhere (where the time goes).
 * Each figure comes with this process's CPU time per row (`process.cpuUsage`), which a shared machine disturbs less.
 *
 *   node --import tsx scripts/bench-mysql-source.ts [--rows 1000000] [--transactions true|false] [--snapshot-only]
 *     [--profile snapshot.cpuprofile]
 *
 * `--snapshot-only` runs the two snapshot figures alone; `--profile` writes a CPU profile of the snapshot
 * into Kafka (scripts/cpuprofile-summary.ts sums it).
 *
 * The rows are inserted with INSERT ... SELECT from MariaDB's seq_1_to_N table, 10 000 per transaction, so
 * the streaming runs read 1 000 transactions per 10 million rows. Topics and the database are dropped
 * after, with their consumer groups and registry subjects; the machine's load average is printed with the figures (the CPU is shared).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { lastValueFrom, takeWhile, tap } from 'rxjs';
import { MySqlSource } from '../connectors/mysql/source.ts';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { FlowControl } from '../topology/flow-control.ts';
import { kafkaJsFastPath } from '../topology/transports/kafka.ts';
import type { RunningTopology } from '../topology/topology.ts';
import { stackEnv } from '../test/support/stack-env.ts';
import { BenchTopics } from './bench/kafka-topics.ts';
import { profiled } from './bench/cpu-profile.ts';
import { ownPeakRssMb } from './bench/peak-rss.ts';
import { BENCH_SOURCE, startBenchPipeline, until, type BenchPipeline } from './bench/pipeline.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    transactions: { type: 'string', default: 'true' },
    'snapshot-only': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const rows = Number(values.rows);
const transactions = values.transactions !== 'false';
const snapshotOnly = values['snapshot-only'];
const profile = values.profile;
const env = stackEnv();
const run = randomUUID().slice(0, 8);
const db = `bench_${run}`;
const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
const connector = new MySqlSource({ name: BENCH_SOURCE, url: env.MYSQL_URL, serverId: 100_000 + Math.floor(Math.random() * 1_000_000_000), include: [`${db}.*`] });
const pipelines = [`bench-mysql-snapshot-${run}`, `bench-mysql-stream-${run}`] as const;

interface Timing {
  seconds: number;
  /** This process's CPU time (all its threads, `process.cpuUsage`): steadier than seconds on a shared machine. */
  cpuMicros: number;
}

/** Times `work`: wall seconds and this process's CPU. */
async function timing(work: () => Promise<unknown>): Promise<Timing> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds: (performance.now() - started) / 1000, cpuMicros: cpu.user + cpu.system };
}

/** Starts the capture-only pipeline, waits for `finished` (checked every 20 ms), stops it; timed from start to finished. */
async function timed(id: string, snapshot: 'initial' | 'never', finished: (running: RunningTopology) => boolean): Promise<Timing> {
  let pipeline: BenchPipeline | undefined;
  try {
    return await timing(async () => {
      pipeline = await startBenchPipeline(env, { id, sourceDb: db, snapshot, captureOnly: true, transactions });
      await until(`pipeline ${id} to finish`, () => pipeline!.alive(), () => finished(pipeline!.running), 20);
    });
  } finally {
    await pipeline?.stop();
  }
}

/** The snapshot is over once the source streams. */
const snapshotFinished = (running: RunningTopology) => running.metrics.sources.get(BENCH_SOURCE)?.phase === 'streaming';
/** Change events of the source durable in Kafka (the source stage counts a batch once it is acknowledged). */
const written = (running: RunningTopology) => running.metrics.totals()[`source:${BENCH_SOURCE}`]?.out ?? 0;

try {
  await admin.query('CREATE DATABASE ??', [db]);
  await admin.query(`CREATE TABLE \`${db}\`.wide (
    id BIGINT PRIMARY KEY, a INT, b INT UNSIGNED, c VARCHAR(40), d DECIMAL(12,2), e DOUBLE, f DATETIME(6), g DATE, h TINYINT, i TEXT)`);
  const from = await connector.openLog();
  // The streaming pipeline's token, before any row exists: its restart streams every insert. With
  // snapshot: never, startBenchPipeline returns once that token is durable: nothing more to wait for.
  if (!snapshotOnly) await timed(pipelines[1], 'never', () => true);

  const loadStart = performance.now();
  for (let start = 1; start <= rows; start += 10_000) {
    const end = Math.min(rows, start + 9_999);
    await admin.query(
      `INSERT INTO \`${db}\`.wide SELECT seq, seq % 1000, seq * 3, CONCAT('name ', seq), seq / 7, seq * 1.5,
         '2024-01-02 03:04:05.123456' + INTERVAL seq SECOND, '2024-01-02' + INTERVAL seq % 3000 DAY, seq % 100, REPEAT('x', 20)
         FROM \`${db}\`.seq_${start}_to_${end}`,
    );
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const snapshotIntoKafka = await (profile === undefined ? timed(pipelines[0], 'initial', snapshotFinished) : profiled(profile, () => timed(pipelines[0], 'initial', snapshotFinished)));
  // The snapshot runs first: the process's peak so far is the snapshot's (the phases after it only add).
  const snapshotPeakRssMb = ownPeakRssMb();
  const streamIntoKafka = snapshotOnly ? undefined : await timed(pipelines[1], 'never', (running) => written(running) >= rows);

  let snapshotted = 0;
  const snapshotAlone = await timing(() =>
    lastValueFrom(connector.snapshot(from, {}, new FlowControl()).pipe(tap((item) => item.kind === 'row' && item.event.op === 'r' && snapshotted++)), { defaultValue: undefined }),
  );
  let streamed = 0;
  const streamAlone = snapshotOnly
    ? undefined
    : await timing(() =>
        lastValueFrom(
          connector.stream(from, new FlowControl()).pipe(
            tap((item) => item.kind === 'change' && streamed++),
            takeWhile(() => streamed < rows),
          ),
          { defaultValue: undefined },
        ),
      );
  if (snapshotted !== rows || (!snapshotOnly && streamed !== rows)) throw new Error(`the connector read ${snapshotted} rows and streamed ${streamed}, expected ${rows}`);

  const line = (what: string, measured: Timing | undefined) => {
    if (measured === undefined) return undefined;
    const { seconds, cpuMicros } = measured;
    return `| ${what.padEnd(44)} | ${seconds.toFixed(1).padStart(7)} | ${String(Math.round(rows / seconds)).padStart(8)} | ${(cpuMicros / rows).toFixed(1).padStart(10)} |`;
  };
  console.log(`${rows} rows (10 columns) in MariaDB on ${new URL(env.MYSQL_URL).host}, loaded in ${loadSeconds.toFixed(1)} s; Kafka transactions ${transactions ? 'on' : 'off'}`);
  console.log('| run                                          |       s |   rows/s | CPU µs/row |');
  console.log('|----------------------------------------------|---------|----------|------------|');
  const lines = [
    line('snapshot into Kafka (Avro, registry)', snapshotIntoKafka),
    line('streaming into Kafka (Avro, registry)', streamIntoKafka),
    line('snapshot, connector alone', snapshotAlone),
    line('streaming, connector alone', streamAlone),
  ];
  for (const printed of lines) if (printed !== undefined) console.log(printed);
  console.log(`peak RSS through the snapshot into Kafka: ${snapshotPeakRssMb} MB`);
  const fastPath = kafkaJsFastPath();
  console.log(`KafkaJS fast path: ${fastPath.active ? 'on' : `off (${fastPath.reason})`}`);
  console.log(`load average (1, 5, 15 min): ${loadavg().map((load) => load.toFixed(2)).join(', ')} on a shared machine`);
} finally {
  await connector.close();
  const leftovers = await BenchTopics.connect(env);
  try {
    for (const id of pipelines) await leftovers.deleteAll(id);
  } finally {
    await leftovers.close();
  }
  await admin.query('DROP DATABASE IF EXISTS ??', [db]);
  await admin.end();
}
