/**
 * A spread snapshot (docs/spread-snapshot.md) by 1, 2, … `cdc run` processes on the stack: one table of
 * `--rows` rows, `spreadSnapshot: true`, key ranges of `--chunk` rows, a capture-only pipeline (the
 * source into its change topic, as the snapshot's cost is there). Each process count gets a fresh table,
 * pipeline and topics; the processes start together. Printed per run:
 * - rows/s from the snapshot's start (`snapshot started`, before the split) to the streaming token (`streaming`);
 * - per process: the ranges and rows it wrote, its CPU (utime + stime from /proc, from that start, or from
 *   its topology's start if later, to streaming) and CPU µs per row it wrote;
 * - per range: the wall ms of read + encode + produce (the worker's `snapshot range written` lines);
 * - what N processes on N machines would reach from those per-range costs.
 *
 *   npm run build && node --import tsx scripts/bench-spread-snapshot.ts [--rows 200000] [--chunk 10000] [--processes plain,1,2]
 *
 * (`plain`: one process whose snapshot is not spread, the baseline.)
 *
 * One machine runs the processes, Kafka, the registry and MariaDB: the load average is printed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { quoteIdentifier, quoteTable } from '../connectors/mysql/sql.ts';
import { BenchTopics } from './bench/kafka-topics.ts';
import { CDC_NODE_FLAGS } from './node-flags.ts';
import { ROOT } from './stack/paths.ts';
import { stackEnv } from './stack/env.ts';
import { positiveOption } from './bench/options.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    chunk: { type: 'string', default: '10000' },
    processes: { type: 'string', default: 'plain,1,2' },
  },
});
const rows = positiveOption('rows', values.rows);
const chunkSize = positiveOption('chunk', values.chunk);
/** `plain`: one process, the snapshot not spread (the baseline). */
const runs = values.processes.split(',').map((count) => (count === 'plain' ? 'plain' : positiveOption('processes', count)));
const env = stackEnv();
const TICKS_PER_SECOND = 100;

/** A `cdc run` child: its JSON log lines as they come, and its CPU time. */
class CdcProcess {
  readonly logs: Array<Record<string, unknown>> = [];
  readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(config: string) {
    this.child = spawn(process.execPath, [...CDC_NODE_FLAGS, join(ROOT, 'bin', 'cdc.js'), 'run', '--config', config], { stdio: 'pipe' });
    this.child.stderr.resume();
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        return;
      }
      for (const wake of this.waiters) wake();
    });
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
  }

  has(msg: string): boolean {
    return this.logs.some((line) => line.msg === msg);
  }

  /** CPU seconds (user + system) so far. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }

  ranges(): Array<{ range: number; rows: number; ms: number }> {
    return this.logs.filter((line) => line.msg === 'snapshot range written').map((line) => ({ range: Number(line.range), rows: Number(line.rows), ms: Number(line.ms) }));
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

async function until(what: string, check: () => boolean, processes: readonly CdcProcess[], timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    if (processes.some((one) => one.child.exitCode !== null)) throw new Error(`a cdc run exited while waiting for ${what}:\n${processes.map((one) => JSON.stringify(one.logs.slice(-5))).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function benchRun(admin: mysql.Connection, run: number | 'plain'): Promise<void> {
  const count = run === 'plain' ? 1 : run;
  const id = randomUUID().slice(0, 8);
  const db = `bench_spread_${id}`;
  const pipeline = `bench-spread-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-spread-'));
  const config = join(dir, 'pipeline.yaml');
  const processes: CdcProcess[] = [];
  try {
    await admin.query(`CREATE DATABASE ${quoteIdentifier(db)}`);
    await admin.query(`CREATE TABLE ${quoteTable(db, 'big')} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(40) NOT NULL)`);
    await admin.query(`INSERT INTO ${quoteTable(db, 'big')} SELECT seq, seq % 1000, REPEAT('x', 30) FROM ${quoteTable(db, `seq_1_to_${rows}`)}`);
    const brokers = env.KAFKA_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
    writeFileSync(
      config,
      `pipeline: ${pipeline}
kafka: { brokers: [${brokers}], sessionTimeoutMs: 6000 }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: bench, type: mysql, url: '${env.MYSQL_URL}', include: ['${db}.*'], chunkSize: ${chunkSize}, spreadSnapshot: ${run !== 'plain'} }
metrics: { port: 0 }
`,
    );
    for (let i = 0; i < count; i++) processes.push(new CdcProcess(config));
    // From before the split: the owner's first token is durable, its snapshot starts.
    await until('the snapshot start', () => processes.some((one) => one.has('snapshot started')), processes);
    const startedAt = performance.now();
    // Each process's CPU from the snapshot's start or, for one still starting up then, from its topology's start.
    const cpuFrom: Array<number | undefined> = processes.map(() => undefined);
    const sampleStarts = () => processes.forEach((one, i) => (cpuFrom[i] ??= one.has('topology started') ? one.cpuSeconds() : undefined));
    await until('streaming', () => (sampleStarts(), processes.some((one) => one.has('streaming'))), processes);
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = processes.map((one, i) => one.cpuSeconds() - (cpuFrom[i] ?? one.cpuSeconds()));
    const load = loadavg()[0]!.toFixed(2);

    console.log(`\n${run === 'plain' ? '1 process, not spread' : `${count} process(es)`}: ${rows} rows in ranges of ${chunkSize}, snapshot start → streaming ${seconds.toFixed(1)} s: ${Math.round(rows / seconds)} rows/s (load average ${load}, ${cpus().length} cores)`);
    if (run === 'plain') {
      console.log(`  CPU ${cpu[0]!.toFixed(2)} s, ${((cpu[0]! * 1e6) / rows).toFixed(1)} µs CPU per row`);
      return;
    }
    const allRanges = processes.flatMap((one) => one.ranges()).filter((range) => range.rows > 0);
    processes.forEach((one, i) => {
      const ranges = one.ranges();
      const written = ranges.reduce((sum, range) => sum + range.rows, 0);
      const owner = one.has('streaming') ? ' (owner)' : '';
      console.log(
        `  process ${i + 1}${owner}: ${ranges.length} ranges, ${written} rows, CPU ${cpu[i]!.toFixed(2)} s` +
          (written > 0 ? `, ${((cpu[i]! * 1e6) / written).toFixed(1)} µs CPU per row, ${Math.round(written / seconds)} rows/s` : ''),
      );
    });
    const ms = allRanges.map((range) => range.ms).sort((a, b) => a - b);
    const perRow = allRanges.reduce((sum, range) => sum + range.ms, 0) / allRanges.reduce((sum, range) => sum + range.rows, 0);
    const cpuPerRow = cpu.reduce((sum, seconds) => sum + seconds, 0) / rows;
    console.log(`  per range of ${chunkSize} (read + encode + produce, wall): p50 ${quantile(ms, 0.5)} ms, p90 ${quantile(ms, 0.9)} ms, max ${ms.at(-1)} ms; ${(perRow * 1000).toFixed(1)} µs per row`);
    console.log(
      `  N processes on N machines (CPU-bound, 2 ranges at once each, the servers not the limit): about N × ${Math.round(1 / cpuPerRow)} rows/s ` +
        `from ${(cpuPerRow * 1e6).toFixed(1)} µs CPU per row over all processes; the owner's share beyond its ranges is the split (one row read per range) and one token per range done`,
    );
  } finally {
    await Promise.all(processes.map((one) => one.stop().catch(() => {})));
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(db)}`);
    const topics = await BenchTopics.connect(env);
    await topics.deleteAll(`${pipeline}.`);
    await topics.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
try {
  for (const count of runs) await benchRun(admin, count);
} finally {
  await admin.end();
}
