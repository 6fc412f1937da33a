/**
 * An incremental snapshot under a streaming load, on the stack: MariaDB → binlog source → Avro change
 * topic → repartition (8 partitions) → MariaDB sink, the pipeline `cdc run` builds (cli/pipeline.ts), in
 * this process, started with `snapshot: never`. A table of `--rows` rows is snapshotted incrementally in
 * chunks of `--chunk` (docs/incremental-snapshots.md) while the latency load of scripts/bench/change-load.ts
 * writes `--rate` rows/s into another table. Printed:
 * - the snapshot's rows/s, from the source taking the request (`incremental-requested`) until the last
 *   chunk is durable in Kafka (`incremental-table-snapshotted`), and until the target holds every row;
 * - the other table's commit → visible latency (p50/p95/p99/max, scripts/bench/e2e.ts) during the snapshot,
 *   and for `--seconds` at the same rate without one, before it.
 *
 *   node --import tsx scripts/bench-incremental.ts [--rows 200000] [--chunk 10000] [--rate 1000] [--seconds 20]
 *
 * One machine runs the writers, the pipeline, Kafka, the registry and MariaDB: the load average is printed.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { quoteTable } from '../connectors/mysql/sql.ts';
import { createEventsTable, sameRows, writeBacklog, Writer, type Latency } from './bench/change-load.ts';
import { measureLatency } from './bench/e2e.ts';
import { BenchTopics } from './bench/kafka-topics.ts';
import { startBenchPipeline, until, type BenchPipeline } from './bench/pipeline.ts';
import { stackEnv } from './stack/env.ts';
import { positiveOption } from './bench/options.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    chunk: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
  },
});
const rows = positiveOption('rows', values.rows);
const chunkSize = positiveOption('chunk', values.chunk);
const rate = positiveOption('rate', values.rate);
const seconds = positiveOption('seconds', values.seconds);
const env = stackEnv();
const run = randomUUID().slice(0, 8);
const source = `bench_inc_${run}`;
const target = `bench_inc_${run}_copy`;
const id = `bench-inc-${run}`;
const SNAPSHOTTED = 'snapshotted';

const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
let pipeline: BenchPipeline | undefined;
let writers: Writer[] = [];
try {
  // The other table and the snapshotted one, in the source and (the same definitions) in the target.
  for (const db of [source, target]) {
    await createEventsTable(admin, db);
    await admin.query(`CREATE TABLE ${quoteTable(db, SNAPSHOTTED)} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(40) NOT NULL)`);
  }
  const loading = performance.now();
  await admin.query(`INSERT INTO ${quoteTable(source, SNAPSHOTTED)} SELECT seq, seq % 1000, REPEAT('x', 30) FROM ${quoteTable(source, `seq_1_to_${rows}`)}`);
  console.log(`${rows} rows loaded in ${((performance.now() - loading) / 1000).toFixed(1)} s`);

  // Started after the load: the snapshot is the only way its rows reach the target.
  const running = await startBenchPipeline(env, { id, sourceDb: source, snapshot: 'never', targetDb: target, chunkSize });
  pipeline = running;
  writers = await Writer.openAll(env.MYSQL_URL, source);
  // Rows for the latency load's updates, through before it starts.
  await writeBacklog(writers, 2000);
  await until('the other table in the target', () => running.alive(), () => sameRows(admin, source, target), 50, 120_000);

  const without = await measureLatency(env.MYSQL_URL, target, writers, { rate, seconds }, () => running.alive());

  // Timed by the source's notifications: from taking the request to the last chunk durable in Kafka.
  let requestedAt: number | undefined;
  let snapshotted: { at: number; chunks: number } | undefined;
  let taken!: () => void;
  const requestTaken = new Promise<void>((resolve) => (taken = resolve));
  const snapshot = running.requestSnapshot([`${source}.${SNAPSHOTTED}`], {
    wait: 'finished',
    onNotification: (notification) => {
      if (notification.type === 'incremental-requested') {
        requestedAt = notification.at;
        taken();
      }
      if (notification.type === 'incremental-table-snapshotted') snapshotted = { at: notification.at, chunks: notification.chunks };
    },
  });
  await Promise.race([requestTaken, snapshot]);
  const during = await measureLatency(env.MYSQL_URL, target, writers, { rate, seconds: Infinity }, () => running.alive(), () => snapshotted !== undefined);
  const result = await snapshot;
  if (result.status !== 'finished' || requestedAt === undefined || snapshotted === undefined) throw new Error(`the snapshot request ended ${result.status}: ${JSON.stringify(result)}`);
  const kafkaSeconds = (snapshotted.at - requestedAt) / 1000;
  await until('every snapshotted row in the target', () => running.alive(), async () => (await count(target)) === rows, 100, 600_000);
  const sinkSeconds = (Date.now() - requestedAt) / 1000;

  const line = (what: string, latency: Latency) =>
    `${what}: p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, max ${latency.max} ms (${latency.samples} markers, ${latency.ratePerSecond} rows/s)`;
  console.log('MariaDB → Kafka (Avro) → repartition (8) → MariaDB, one process; Kafka transactions on');
  console.log(
    `incremental snapshot of ${rows} rows in ${snapshotted.chunks} chunks of ${chunkSize}: in Kafka after ${kafkaSeconds.toFixed(1)} s (${Math.round(rows / kafkaSeconds)} rows/s), ` +
      `in the target after ${sinkSeconds.toFixed(1)} s (${Math.round(rows / sinkSeconds)} rows/s)`,
  );
  console.log(line(`other table, commit → visible, ${seconds} s without a snapshot`, without));
  console.log(line('other table, commit → visible, during the snapshot', during));
  console.log(`load average (1, 5, 15 min): ${loadavg().map((load) => load.toFixed(2)).join(', ')} on a shared machine`);
} finally {
  await pipeline?.stop();
  for (const writer of writers) await writer.close();
  await admin.query('DROP DATABASE IF EXISTS ??', [source]);
  await admin.query('DROP DATABASE IF EXISTS ??', [target]);
  await admin.end();
  const topics = await BenchTopics.connect(env);
  await topics.deleteAll(`${id}.`);
  await topics.close();
}

async function count(db: string): Promise<number> {
  const [[{ n }]] = (await admin.query(`SELECT COUNT(*) AS n FROM ${quoteTable(db, SNAPSHOTTED)}`)) as unknown as [[{ n: number }]];
  return Number(n);
}
