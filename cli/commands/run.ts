import type { Logger } from 'pino';
import { watchLag, type WatchedGroup } from '../../topology/lag.ts';
import { PipelineMetrics } from '../../topology/metrics.ts';
import { stopOnSignals } from '../../topology/shutdown.ts';
import { groups, topics } from '../../topology/topics.ts';
import type { StageSelection } from '../../topology/topology.ts';
import type { PipelineConfig } from '../config-schema.ts';
import { ConsoleState } from '../console/state.ts';
import { serveMetrics } from '../metrics-server.ts';
import { SecretScrubber, secretsOf } from '../secrets.ts';
import { buildPipeline, repartitionOf } from '../pipeline.ts';
import type { LoadedOperator } from '../operators.ts';
import { showProgress } from '../progress.ts';
import { checkReachable, explainRunFailure, needsOfRun } from '../reachability.ts';

export interface RunOptions {
  only: StageSelection;
  /** Snapshot progress as bars (a terminal) or as periodic log lines. */
  tty: boolean;
  /** Overrides metrics.port of the config (0: any free port). */
  metricsPort?: number;
  /** The config's operators, loaded (cli/operators.ts). */
  operators?: readonly LoadedOperator[];
}

const LAG_INTERVAL_MS = 10_000;

/**
 * `cdc run`: checks every server it needs, serves /metrics, /health and the web console, runs this process's share of
 * the pipeline until SIGTERM / SIGINT (clean: sources stop at a token, consumers drain and commit) or a
 * fatal error (rejects with it).
 */
export async function run(config: PipelineConfig, options: RunOptions, log: Logger): Promise<void> {
  await checkReachable(config, needsOfRun(options.only));
  const metrics = new PipelineMetrics();
  const { topology, transport, serde } = buildPipeline(config, { log, metrics, operators: options.operators ?? [] });
  const consoleState = new ConsoleState(config, metrics, topology.describe(), serde);
  const scrubber = new SecretScrubber(secretsOf(config));
  const server = await serveMetrics({
    metrics,
    console: consoleState,
    host: config.metrics.host,
    port: options.metricsPort ?? config.metrics.port,
    ...(config.metrics.auth ? { auth: config.metrics.auth } : {}),
    scrub: (text) => scrubber.scrub(text),
  }).catch((error: unknown) => {
    consoleState.close();
    throw error;
  });
  log.info({ url: `${server.url}/metrics`, health: `${server.url}/health`, console: `${server.url}/` }, 'metrics listening');
  try {
    const running = await topology.start(transport, { only: options.only, metrics });
    stopOnSignals(running, { log: (message) => log.info({}, message) });
    const stopProgress = showProgress(metrics, { tty: options.tty, log });
    const stopLag = watchLag(transport, watchedGroups(config, options.only), LAG_INTERVAL_MS, (group, topic, { partition, lag }) =>
      metrics.lag(group, topic, partition, lag),
    );
    try {
      await running.done.catch(async (error: unknown) => {
        throw await explainRunFailure(config, error);
      });
      log.info({ pipeline: config.pipeline }, 'stopped');
    } finally {
      stopLag();
      stopProgress();
    }
  } finally {
    await transport.close();
    await server.close();
    consoleState.close();
  }
}

/** The consumer groups this process is part of, with the topic each reads. */
export function watchedGroups(config: PipelineConfig, only: StageSelection): WatchedGroup[] {
  const { pipeline } = config;
  const watched: WatchedGroup[] = [];
  if (only !== 'sinks' && repartitionOf(config) !== undefined) for (const source of config.sources) watched.push({ group: groups.repartition(pipeline), topic: topics.change(pipeline, source.name) });
  if (only !== 'sources') for (const sink of config.sinks) watched.push({ group: groups.sink(pipeline, sink.name), topic: topics.repartition(pipeline) });
  return watched;
}
