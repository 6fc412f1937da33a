/**
 * End-to-end streaming on the stack: MariaDB → binlog source → Avro change topic → repartition (8
 * partitions) → MariaDB sink, the pipeline `cdc run` builds (cli/pipeline.ts), in this process:
 * - sustained: `--changes` row changes (inserts, updates, deletes; alternately one-row and 100-row
 *   transactions) written while the pipeline is stopped, then rows/s from its restart until the sink has
 *   applied the last. A live load from a few connections measures this machine's MariaDB instead (about
 *   8,000 rows/s here, with the pipeline keeping up);
 * - latency: a fixed rate (`--rate`, default 5,000 rows/s: every 100 ms five one-row updates and
 *   transactions of up to 100 inserts for the rest, spread over four connections) for `--seconds`. Each
 *   row carries the writer's clock (`written_us`, taken as its statement is built, a millisecond or so
 *   before COMMIT) and the target is polled every 10 ms for rows newer than the last seen, so a row's
 *   latency is commit → visible in the sink, over-counted by at most the poll interval and the poll's own
 *   time. p50/p95/p99/max printed, and the rate the writers actually reached.
 *
 *   node --import tsx scripts/bench-streaming-e2e.ts [--changes 200000] [--rate 5000] [--seconds 20]
 *
 * One machine runs the writers, the pipeline, Kafka, the registry and MariaDB: the load average is printed.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { parseConfig } from '../cli/config.ts';
import { buildPipeline } from '../cli/pipeline.ts';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import type { RunningTopology } from '../topology/topology.ts';
import { stackEnv } from '../test/support/stack-env.ts';
import { deletePipelineTopics } from '../test/topology/fixtures/kafka-kit.ts';

const { values } = parseArgs({
  options: { changes: { type: 'string', default: '200000' }, rate: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '20' } },
});
const changes = Number(values.changes);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const env = stackEnv();
const run = randomUUID().slice(0, 8);
const source = `bench_e2e_${run}`;
const target = `bench_e2e_${run}_copy`;
const pipelineId = `bench-e2e-${run}`;
const SINK = 'copy';
const TICK_MS = 100;
const WRITERS = 4;

const now = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * One connection writing its own ids (`first`, `first + WRITERS`, ...), so no statement waits on another
 * connection's rows. Its oldest rows are deleted first and updates pick among the rest, so every
 * statement changes a row (and makes an event).
 */
class Writer {
  private inserted = 0;
  private deleted = 0;

  private constructor(
    private readonly connection: mysql.Connection,
    private readonly first: number,
  ) {}

  static async open(first: number): Promise<Writer> {
    return new Writer(await mysql.createConnection(connectionOptions(env.MYSQL_URL)), first);
  }

  /** One transaction of `inserts` new rows, or of one update of an existing row; the rows it changed. */
  async transaction(inserts: number): Promise<number> {
    await this.connection.beginTransaction();
    if (inserts > 0) {
      const rows = Array.from({ length: inserts }, () => [this.id(this.inserted++), 0, 'x'.repeat(30), now()]);
      await this.connection.query(`INSERT INTO \`${source}\`.events (id, v, pad, written_us) VALUES ?`, [rows]);
    } else {
      const row = this.deleted + Math.floor(Math.random() * (this.inserted - this.deleted));
      await this.connection.query(`UPDATE \`${source}\`.events SET v = v + 1, written_us = ? WHERE id = ?`, [now(), this.id(row)]);
    }
    await this.connection.commit();
    return Math.max(inserts, 1);
  }

  async deleteOldest(): Promise<number> {
    await this.connection.query(`DELETE FROM \`${source}\`.events WHERE id = ?`, [this.id(this.deleted++)]);
    return 1;
  }

  close(): Promise<void> {
    return this.connection.end();
  }

  private id(nth: number): number {
    return this.first + nth * WRITERS;
  }
}

interface Pipeline {
  running: RunningTopology;
  /** Throws what the pipeline failed with, if it did. */
  alive(): void;
  stop(): Promise<void>;
}

/** The pipeline `cdc run --config` would run; started afresh after a stop, it goes on from its stored token. */
async function startPipeline(): Promise<Pipeline> {
  const targetUrl = new URL(env.MYSQL_URL);
  targetUrl.pathname = `/${target}`;
  const brokers = env.KAFKA_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
  const { topology, transport } = buildPipeline(
    parseConfig(
      `pipeline: ${pipelineId}
kafka: { brokers: [${brokers}] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: bench, type: mysql, url: '${env.MYSQL_URL}', include: ['${source}.*'], snapshot: never }
repartition: { partitions: 8 }
sinks:
  - { name: ${SINK}, type: mysql, url: '${targetUrl.href}' }
`,
      'bench config',
    ),
  );
  const running = await topology.start(transport);
  let failed: unknown;
  running.done.catch((error: unknown) => (failed = error));
  return {
    running,
    alive() {
      if (failed !== undefined) throw failed;
    },
    async stop() {
      await running.stop();
      await transport.close();
    },
  };
}

/** Events the sink has applied since this process started the pipeline. */
const applied = (pipeline: Pipeline) => pipeline.running.metrics.totals()[`sink:${SINK}`]?.out ?? 0;

async function until(what: string, pipeline: Pipeline, done: () => boolean | Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    pipeline.alive();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Row changes written by the writers, every 20th statement a delete. */
async function writeBacklog(writers: Writer[]): Promise<number> {
  const perWriter = Math.ceil(changes / WRITERS);
  const counts = await Promise.all(
    writers.map(async (writer) => {
      let written = 0;
      for (let round = 0; written < perWriter; round++) {
        written += round % 20 === 19 ? await writer.deleteOldest() : await writer.transaction(round % 2 === 0 ? 100 : 0);
      }
      return written;
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Writes at `rate` for `seconds` while `pipeline` runs; returns the rate reached. */
async function writeAtFixedRate(writers: Writer[], pipeline: Pipeline): Promise<number> {
  const perTick = Math.round((rate * TICK_MS) / 1000);
  const tickWork: number[] = [0, 0, 0, 0, 0];
  for (let rows = 5; rows < perTick; rows += 100) tickWork.push(Math.min(100, perTick - rows));
  const started = performance.now();
  let rows = 0;
  for (let tick = 0; tick < (seconds * 1000) / TICK_MS; tick++) {
    const tickStart = performance.now();
    const done = await Promise.all(
      writers.map(async (writer, k) => {
        let written = 0;
        for (let next = k; next < tickWork.length; next += WRITERS) written += await writer.transaction(tickWork[next]!);
        return written;
      }),
    );
    rows += done.reduce((sum, count) => sum + count, 0);
    pipeline.alive();
    const spent = performance.now() - tickStart;
    if (spent < TICK_MS) await new Promise((resolve) => setTimeout(resolve, TICK_MS - spent));
  }
  return rows / ((performance.now() - started) / 1000);
}

/** Polls the target every 10 ms for rows newer than the last seen, until stopped; their commit → visible latencies. */
function watchLatency(from: number): { stop(): Promise<number[]>; seen(): number } {
  const latenciesMs: number[] = [];
  let seen = from;
  let polling = true;
  const done = (async () => {
    const reader = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
    try {
      while (polling) {
        const [rows] = (await reader.query(`SELECT written_us FROM \`${target}\`.events WHERE written_us > ?`, [seen])) as unknown as [Array<{ written_us: number }>];
        const visibleAt = now();
        for (const { written_us: written } of rows) {
          latenciesMs.push((visibleAt - Number(written)) / 1000);
          seen = Math.max(seen, Number(written));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await reader.end();
    }
  })();
  return {
    seen: () => seen,
    async stop() {
      polling = false;
      await done;
      return latenciesMs.sort((a, b) => a - b);
    },
  };
}

const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
const writers: Writer[] = [];
try {
  await admin.query('CREATE DATABASE ??', [source]);
  await admin.query('CREATE DATABASE ??', [target]);
  await admin.query(`CREATE TABLE \`${source}\`.events (id BIGINT PRIMARY KEY, v INT, pad VARCHAR(40), written_us BIGINT)`);
  for (let k = 1; k <= WRITERS; k++) writers.push(await Writer.open(k));
  let pipeline = await startPipeline();
  // The sink creates the target table with the first row; the latency poll needs an index on written_us.
  await writers[0]!.transaction(1);
  await until('the first row in the target', pipeline, () => applied(pipeline) >= 1);
  await admin.query(`ALTER TABLE \`${target}\`.events ADD INDEX written (written_us)`);

  await pipeline.stop();
  const written = await writeBacklog(writers);
  const sustainedStart = performance.now();
  pipeline = await startPipeline();
  await until('the sink to apply the backlog', pipeline, () => applied(pipeline) >= written);
  const sustainedSeconds = (performance.now() - sustainedStart) / 1000;

  const [[{ last }]] = (await admin.query(`SELECT COALESCE(MAX(written_us), 0) AS last FROM \`${target}\`.events`)) as unknown as [[{ last: number }]];
  const latency = watchLatency(Number(last));
  const reached = await writeAtFixedRate(writers, pipeline);
  const [[{ newest }]] = (await admin.query(`SELECT MAX(written_us) AS newest FROM \`${source}\`.events`)) as unknown as [[{ newest: number }]];
  await until('the last rows of the latency run in the target', pipeline, () => latency.seen() >= Number(newest), 120_000);
  // A row updated twice between two polls is one sample: there are fewer samples than rows written.
  const sorted = await latency.stop();
  await pipeline.stop();

  console.log('MariaDB → Kafka (Avro) → repartition (8) → MariaDB, one process; Kafka transactions on');
  console.log(
    `sustained: a backlog of ${written} row changes (1-row and 100-row transactions, 5% deletes) applied ${sustainedSeconds.toFixed(1)} s after the restart: ${Math.round(written / sustainedSeconds)} rows/s end to end`,
  );
  console.log(
    `latency at ${Math.round(reached)} rows/s (asked ${rate}) for ${seconds} s, ${sorted.length} rows seen: p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
  );
  console.log(`load average (1, 5, 15 min): ${loadavg().map((load) => load.toFixed(2)).join(', ')} on a shared machine`);
} finally {
  for (const writer of writers) await writer.close();
  await deletePipelineTopics(pipelineId);
  await admin.query('DROP DATABASE IF EXISTS ??', [source]);
  await admin.query('DROP DATABASE IF EXISTS ??', [target]);
  await admin.end();
}
