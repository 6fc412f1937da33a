/**
 * End-to-end streaming on the stack: MariaDB → binlog source → Avro change topic → repartition (8
 * partitions) → MariaDB sink, the pipeline `cdc run` builds (cli/pipeline.ts), in this process, under the
 * load of scripts/bench/change-load.ts, measured as scripts/bench/e2e.ts says (Debezium's run uses the same):
 * - sustained: `--changes` row changes (inserts, updates, deletes; alternately one-row and 100-row
 *   transactions) written while the pipeline is stopped, then rows/s from its restart until the target
 *   holds the source's rows. A live load from a few connections measures this machine's MariaDB instead
 *   (about 8,000 rows/s here, with the pipeline keeping up);
 * - latency: a fixed rate (`--rate`, default 5,000 rows/s) for `--seconds`, commit → visible in the sink
 *   of marker rows (80 a second): p50/p95/p99/max printed, and the rate the writers actually reached.
 *
 *   node --import tsx scripts/bench-streaming-e2e.ts [--changes 200000] [--rate 5000] [--seconds 20]
 *     [--profile e2e.cpuprofile]
 *
 * `--profile` writes a CPU profile of the sustained phase (scripts/cpuprofile-summary.ts sums it).
 * One machine runs the writers, the pipeline, Kafka, the registry and MariaDB: the load average is printed.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { profiled } from './bench/cpu-profile.ts';
import { runE2e } from './bench/e2e.ts';
import { BenchTopics } from './bench/kafka-topics.ts';
import { startBenchPipeline, type BenchPipeline } from './bench/pipeline.ts';
import { stackEnv } from './stack/env.ts';

const { values } = parseArgs({
  options: { changes: { type: 'string', default: '200000' }, rate: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '20' }, profile: { type: 'string' } },
});
const changes = Number(values.changes);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const profile = values.profile;
const env = stackEnv();
const run = randomUUID().slice(0, 8);
const source = `bench_e2e_${run}`;
const target = `bench_e2e_${run}_copy`;
const id = `bench-e2e-${run}`;

let pipeline: BenchPipeline | undefined;
// Paused is stopped: a restarted pipeline goes on from its stored token and its sink's committed offsets.
const start = async () => {
  pipeline = await startBenchPipeline(env, { id, sourceDb: source, snapshot: 'never', targetDb: target });
};
const stop = async () => {
  await pipeline?.stop();
  pipeline = undefined;
};
try {
  const result = await runE2e(
    env,
    { changes, rate, seconds },
    { source, target },
    { start, pause: stop, resume: start, alive: () => pipeline?.alive(), stop },
    profile === undefined ? undefined : (work) => profiled(profile, work),
  );
  const { written, sustainedSeconds, sustainedCpuMicrosPerRow, latency } = result;
  console.log('MariaDB → Kafka (Avro) → repartition (8) → MariaDB, one process; Kafka transactions on');
  console.log(
    `sustained: a backlog of ${written} row changes (1-row and 100-row transactions, 5% deletes) applied ${sustainedSeconds.toFixed(1)} s after the restart: ${Math.round(written / sustainedSeconds)} rows/s end to end, ${sustainedCpuMicrosPerRow.toFixed(1)} µs of this process's CPU per row`,
  );
  console.log(
    `latency at ${latency.ratePerSecond} rows/s (asked ${rate}) for ${seconds} s, ${latency.samples} markers: p50 ${latency.p50} ms, p95 ${latency.p95} ms, p99 ${latency.p99} ms, max ${latency.max} ms`,
  );
  console.log(`load average (1, 5, 15 min): ${loadavg().map((load) => load.toFixed(2)).join(', ')} on a shared machine`);
} finally {
  const topics = await BenchTopics.connect(env);
  await topics.deleteAll(`${id}.`);
  await topics.close();
}
