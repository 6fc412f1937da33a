/**
 * Our pipeline as `cdc run --config` builds it (cli/pipeline.ts) for one benchmark database: its MySQL
 * source, repartition at 8 partitions (unless capture only) and, optionally, a MySQL sink; started in
 * this process.
 */
import { parseConfig } from '../../cli/config.ts';
import { buildPipeline } from '../../cli/pipeline.ts';
import type { SnapshotRequestOptions, SnapshotRequestResult } from '../../topology/snapshot-request.ts';
import type { RunningTopology, StageSelection } from '../../topology/topology.ts';
import type { StackEnv } from '../stack/env.ts';
import { sleep } from '../stack/process.ts';

export const REPARTITIONS = 8;
/** The source's name in the config. */
export const BENCH_SOURCE = 'bench';
/** The sink's name in the config, so `applied` can read its metrics. */
const SINK = 'copy';

export interface BenchPipelineOptions {
  /** The pipeline id: names its topics, groups and registry subjects (`<id>.…`). */
  id: string;
  /** The database the source captures (every table in it). */
  sourceDb: string;
  snapshot: 'initial' | 'never';
  /** The database the MySQL sink writes to, on the stack's MariaDB; none: no sink. */
  targetDb?: string;
  /** `cdc run --only`: sources (source and repartition stages) or sinks. */
  only?: StageSelection;
  /** No repartition stage (and no sink): the source into its change topic, as a Debezium connector runs. */
  captureOnly?: boolean;
  /** Kafka transactions, on by default as in the CLI. */
  transactions?: boolean;
  /** The source's chunk size (snapshots, incremental snapshots); the CLI's default when not given. */
  chunkSize?: number;
}

export interface BenchPipeline {
  running: RunningTopology;
  /** Throws what the pipeline failed with, if it did. */
  alive(): void;
  /** Events the repartition stage wrote, and the sink applied, since this process started the pipeline. */
  repartitioned(): number;
  applied(): number;
  /** Asks the source for an incremental snapshot of `tables` (`db.table`), as `cdc snapshot` does. */
  requestSnapshot(tables: readonly string[], options?: SnapshotRequestOptions): Promise<SnapshotRequestResult>;
  stop(): Promise<void>;
}

/** Started afresh after a stop, the pipeline goes on from its stored token and committed offsets. */
export async function startBenchPipeline(env: StackEnv, options: BenchPipelineOptions): Promise<BenchPipeline> {
  const brokers = env.KAFKA_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
  let sinks = '';
  if (options.targetDb !== undefined) {
    const targetUrl = new URL(env.MYSQL_URL);
    targetUrl.pathname = `/${options.targetDb}`;
    sinks = `sinks:\n  - { name: ${SINK}, type: mysql, url: '${targetUrl.href}' }\n`;
  }
  const { topology, transport } = buildPipeline(
    parseConfig(
      `pipeline: ${options.id}
kafka: { brokers: [${brokers}], transactions: ${options.transactions ?? true} }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: ${BENCH_SOURCE}, type: mysql, url: '${env.MYSQL_URL}', include: ['${options.sourceDb}.*'], snapshot: ${options.snapshot}${options.chunkSize === undefined ? '' : `, chunkSize: ${options.chunkSize}`} }
${options.captureOnly ? '' : `repartition: { partitions: ${REPARTITIONS} }\n`}${sinks}`,
      'bench config',
    ),
  );
  const running = await topology.start(transport, options.only ? { only: options.only } : {});
  let failed: unknown;
  running.done.catch((error: unknown) => (failed = error));
  // Without a snapshot the source takes the binlog's end as its start once it owns the source, after
  // start() resolves: rows written before that are not its. So, as Debezium's side waits for its
  // connector, this waits until capture has begun before a benchmark writes its load.
  if (options.snapshot === 'never' && options.only !== 'sinks') await running.capturing(BENCH_SOURCE);
  const totals = (stage: string) => running.metrics.totals()[stage]?.out ?? 0;
  return {
    running,
    alive() {
      if (failed !== undefined) throw failed;
    },
    repartitioned: () => totals('repartition'),
    applied: () => totals(`sink:${SINK}`),
    requestSnapshot: (tables, requestOptions) => topology.requestSnapshot(transport, BENCH_SOURCE, tables, requestOptions),
    async stop() {
      await running.stop();
      await transport.close();
    },
  };
}

/**
 * Polls `done` every `pollMs` until it holds, calling `alive` (which throws when the system under test
 * failed) before each poll; a timeout names `what`.
 */
export async function until(what: string, alive: () => void | Promise<void>, done: () => boolean | Promise<boolean>, pollMs: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    await alive();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(pollMs);
  }
}
