/**
 * Our side of `npm run bench`'s apply scenario, on the rows Debezium's side applies: the 10-column table
 * (scripts/bench/wide-table.ts) with `--rows` rows, snapshotted by our source into the repartition topic
 * (8 partitions), then applied by our MariaDB sink alone into an empty, pre-created table. Three commands,
 * each a process of its own, so the apply's peak memory is the sink's (as Debezium's sink runs in a worker
 * of its own):
 *
 *   node --import tsx scripts/bench/apply-wide.ts fill --rows N --run R    # table, rows, snapshot into the repartition topic
 *   node --import tsx scripts/bench/apply-wide.ts apply --rows N --run R   # `cdc run --only sinks`, timed until the target holds N rows
 *   node --import tsx scripts/bench/apply-wide.ts clean --run R            # databases, topics, groups, registry subjects
 */
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../connectors/mysql/connection.ts';
import { stackEnv } from '../stack/env.ts';
import { BenchTopics } from './kafka-topics.ts';
import { startBenchPipeline, until, type BenchPipelineOptions } from './pipeline.ts';
import { APPLY_POLL_MS, countWideRows, createWideTable, loadWideRows } from './wide-table.ts';

const COMMANDS = ['fill', 'apply', 'clean'] as const;
const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: 'string', default: '100000' }, run: { type: 'string' } } });
const command = positionals[0] as (typeof COMMANDS)[number];
if (!COMMANDS.includes(command)) throw new Error(`apply-wide.ts: expected one of ${COMMANDS.join(', ')}, got ${positionals[0] ?? 'nothing'}`);
if (!values.run || !/^[a-z0-9]+$/.test(values.run)) throw new Error('apply-wide.ts: --run must name the run in lowercase letters and digits');
const rows = Number(values.rows);
const env = stackEnv();
const db = `bench_apply_${values.run}`;
const target = `${db}_target`;
// One config for both stages, as `cdc run --only sources` and `cdc run --only sinks` of one pipeline would read.
const pipeline: BenchPipelineOptions = { id: `bench-apply-${values.run}`, sourceDb: db, snapshot: 'initial', targetDb: target };

const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
try {
  if (command === 'fill') {
    await createWideTable(admin, db);
    await loadWideRows(admin, db, 1, rows);
    const running = await startBenchPipeline(env, { ...pipeline, only: 'sources' });
    await until('the snapshot in the repartition topic', () => running.alive(), () => running.repartitioned() >= rows, 50);
    await running.stop();
  } else if (command === 'apply') {
    // Pre-created and empty, as Debezium's JDBC sink gets it.
    await createWideTable(admin, target);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const running = await startBenchPipeline(env, { ...pipeline, only: 'sinks' });
    let seconds: number;
    let cpu: NodeJS.CpuUsage;
    try {
      await until('the target to hold every row', () => running.alive(), async () => (await countWideRows(admin, target)) >= rows, APPLY_POLL_MS);
      seconds = (performance.now() - started) / 1000;
      cpu = process.cpuUsage(cpuBefore);
    } finally {
      await running.stop();
    }
    // This process's CPU time (all its threads, the count polls included): steadier than rows/s on a shared machine.
    const cpuMicrosPerRow = (cpu.user + cpu.system) / rows;
    console.log(`apply: ${rows} rows in ${seconds.toFixed(2)} s: ${Math.round(rows / seconds)} rows/s, ${cpuMicrosPerRow.toFixed(1)} µs of this process's CPU per row`);
  } else {
    await admin.query('DROP DATABASE IF EXISTS ??', [db]);
    await admin.query('DROP DATABASE IF EXISTS ??', [target]);
    const topics = await BenchTopics.connect(env);
    await topics.deleteAll(`${pipeline.id}.`);
    await topics.close();
  }
} finally {
  await admin.end();
}
