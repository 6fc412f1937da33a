import type { PipelineMetrics, PartitionLagSample, SourcePhase } from '../../topology/metrics.ts';
import type { EventSerde } from '../../topology/serde.ts';
import { groups } from '../../topology/topics.ts';
import type { StageDescription, TopologyDescription } from '../../topology/topology.ts';
import type { PipelineConfig } from '../config-schema.ts';
import { DeadLetterViews, type DeadLetterView } from './dead-letter-view.ts';

/** What `GET /api/state` answers and the console page draws. */
export interface ConsoleSnapshot {
  pipeline: string;
  /** ISO time of this snapshot. */
  now: string;
  ready: boolean;
  topology: { text: string; stages: StageDescription[] };
  sources: SourceView[];
  repartition: StageView & { lag: PartitionLagSample[] };
  sinks: SinkView[];
  deadLetters: { total: number; recent: DeadLetterView[] };
}

interface StageView {
  in: number;
  out: number;
  /** Events out per second over the last ten seconds; null until two samples exist. */
  rate: number | null;
}

interface SourceView extends StageView {
  name: string;
  /** null: this process does not run the source (another process owns it, or `--only sinks`). */
  phase: SourcePhase | null;
  position: string | null;
  /** ISO time of the last token this process committed for it. */
  tokenWrittenAt: string | null;
  tables: Array<{ name: string; rows: number; estimate: number | null; done: boolean }>;
  /** Incremental snapshots not finished, oldest first: the first is being read, the others wait. */
  incremental: Array<{ id: string; table: string; rows: number; estimate: number | null; startedAt: string | null }>;
}

interface SinkView extends StageView {
  name: string;
  /** Partitions of the repartition topic it owns here; null before its first assignment or when not run here. */
  partitions: number | null;
  lag: PartitionLagSample[];
  lastError: { message: string; at: string } | null;
}

const RATE_INTERVAL_MS = 2_000;
const RATE_SAMPLES = 6;

/**
 * The console's view of a running pipeline, built from PipelineMetrics on each poll. Rates come from
 * samples of the stage totals taken every two seconds over the last ten (a sink applies in batches, which
 * a shorter window would show as bursts and zeros), so they do not depend on how often anyone polls.
 */
export class ConsoleState {
  private readonly deadLetters: DeadLetterViews;
  private samples: Array<{ at: number; totals: Record<string, { in: number; out: number }> }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly config: PipelineConfig,
    private readonly metrics: PipelineMetrics,
    private readonly topology: TopologyDescription,
    serde: EventSerde,
  ) {
    this.deadLetters = new DeadLetterViews(serde);
    this.sample();
    this.timer = setInterval(() => this.sample(), RATE_INTERVAL_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  async snapshot(): Promise<ConsoleSnapshot> {
    const { config, metrics } = this;
    const { pipeline } = config;
    const totals = metrics.totals();
    const stage = (name: string): StageView => ({ in: totals[name]?.in ?? 0, out: totals[name]?.out ?? 0, rate: this.rate(name) });
    const lagOf = (group: string) => [...(metrics.lags.get(group)?.values() ?? [])].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return {
      pipeline,
      now: new Date().toISOString(),
      ready: metrics.health().ready,
      topology: { text: this.topology.toString(), stages: this.topology.stages },
      sources: config.sources.map(({ name }) => {
        const state = metrics.sources.get(name);
        return {
          name,
          ...stage(`source:${name}`),
          phase: state?.phase ?? null,
          position: state?.position ?? null,
          tokenWrittenAt: state?.tokenWrittenAt === undefined ? null : new Date(state.tokenWrittenAt).toISOString(),
          tables: [...(state?.tables ?? [])].map(([table, progress]) => ({ name: table, rows: progress.rows, estimate: progress.estimate ?? null, done: progress.done })),
          incremental: (state?.incremental ?? []).map(({ id, table, rows, estimate, startedAt }) => ({
            id,
            table,
            rows,
            estimate: estimate ?? null,
            startedAt: startedAt === undefined ? null : new Date(startedAt).toISOString(),
          })),
        };
      }),
      repartition: { ...stage('repartition'), lag: lagOf(groups.repartition(pipeline)) },
      sinks: config.sinks.map(({ name }) => {
        const state = metrics.sinks.get(name);
        return {
          name,
          ...stage(`sink:${name}`),
          partitions: state?.partitions ?? null,
          lag: lagOf(groups.sink(pipeline, name)),
          lastError: state?.lastError ? { message: state.lastError.message, at: new Date(state.lastError.at).toISOString() } : null,
        };
      }),
      deadLetters: { total: metrics.deadLetterCount, recent: await Promise.all(metrics.recentDeadLetters.newestFirst().map((sample) => this.deadLetters.view(sample))) },
    };
  }

  private sample(): void {
    this.samples = [...this.samples.slice(1 - RATE_SAMPLES), { at: Date.now(), totals: this.metrics.totals() }];
  }

  /** Events out of a stage per second between the oldest and the newest sample. */
  private rate(stage: string): number | null {
    const older = this.samples[0];
    const newer = this.samples.at(-1);
    if (older === undefined || newer === undefined || newer === older) return null;
    const out = (newer.totals[stage]?.out ?? 0) - (older.totals[stage]?.out ?? 0);
    return Math.round(out / ((newer.at - older.at) / 1000));
  }
}
