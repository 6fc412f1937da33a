import { consumerLag, type PartitionLag } from '../../topology/lag.ts';
import type { IncrementalSnapshotProgress, SourceToken } from '../../topology/token.ts';
import { tokenKey } from '../../topology/token.ts';
import { TokenFold } from '../../topology/token-store.ts';
import { groups, topics } from '../../topology/topics.ts';
import type { Transport } from '../../topology/transport.ts';
import type { Logger } from '../../topology/log.ts';
import type { PipelineConfig } from '../config-schema.ts';
import { buildPipeline, repartitionOf } from '../pipeline.ts';
import { checkReachable } from '../reachability.ts';
import { formatTable } from '../table.ts';

/** One source as its newest token tells it. Times are ISO strings. */
export interface SourceStatus {
  name: string;
  phase: SourceToken['phase'] | 'not started';
  position: string | null;
  tokenWrittenAt: string | null;
  snapshot: { tables: number; tablesDone: number; rows: number } | null;
  /** The tables (collections) it captures and since when; null when its token does not record them (none yet, or written by an older version). */
  captured: Array<{ table: string; since: string }> | null;
  /** Its incremental snapshots not finished, the one being read first. */
  incremental: Array<{ id: string; table: string; reason: IncrementalSnapshotProgress['reason']; requestedAt: string; startedAt: string | null; rows: number; estimatedRows: number | null; chunks: number }>;
}

export interface PipelineStatus {
  pipeline: string;
  sources: SourceStatus[];
  stages: Array<{ stage: string; group: string; members: number; partitions: Array<PartitionLag & { topic: string }> }>;
}

/** `cdc status`: what the token topic and the consumer groups say, from any machine that reaches Kafka. */
export async function status(config: PipelineConfig, log: Logger): Promise<PipelineStatus> {
  await checkReachable(config, { kafka: true });
  const { transport } = buildPipeline(config, { log });
  try {
    const existing = new Set(await transport.listTopics());
    const tokens = existing.has(topics.tokens(config.pipeline)) ? await readTokens(transport, config.pipeline) : new Map<string, SourceToken>();
    const { pipeline } = config;
    const stageGroups = [
      ...(repartitionOf(config) === undefined ? [] : [{ stage: 'repartition', group: groups.repartition(pipeline), topics: config.sources.map((s) => topics.change(pipeline, s.name)) }]),
      ...config.sinks.map((sink) => ({ stage: `sink ${sink.name}`, group: groups.sink(pipeline, sink.name), topics: [topics.repartition(pipeline)] })),
    ];
    return {
      pipeline,
      sources: config.sources.map(({ name }) => sourceStatus(name, tokens.get(tokenKey(pipeline, name)))),
      stages: await Promise.all(
        stageGroups.map(async ({ stage, group, topics: read }) => ({
          stage,
          group,
          members: await transport.groupMembers(group),
          partitions: (
            await Promise.all(read.filter((topic) => existing.has(topic)).map(async (topic) => (await consumerLag(transport, group, topic)).map((lag) => ({ topic, ...lag }))))
          ).flat(),
        })),
      ),
    };
  } finally {
    await transport.close();
  }
}

/** What `status` shows of a source's newest token (undefined: the source never ran). */
export function sourceStatus(name: string, token: SourceToken | undefined): SourceStatus {
  const tables = Object.values(token?.snapshot ?? {});
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    name,
    phase: token?.phase ?? 'not started',
    position: token?.position ?? null,
    tokenWrittenAt: token ? iso(token.writtenAt) : null,
    snapshot: token?.snapshot ? { tables: tables.length, tablesDone: tables.filter((t) => t.done).length, rows: tables.reduce((n, t) => n + t.rows, 0) } : null,
    captured: token?.captured ? Object.entries(token.captured).map(([table, since]) => ({ table, since: iso(since) })).sort((a, b) => (a.table < b.table ? -1 : 1)) : null,
    incremental: (token?.incremental ?? []).map((progress) => ({
      id: progress.id,
      table: progress.table,
      reason: progress.reason,
      requestedAt: iso(progress.requestedAt),
      startedAt: progress.startedAt === undefined ? null : iso(progress.startedAt),
      rows: progress.rows,
      estimatedRows: progress.estimate ?? null,
      chunks: progress.chunks,
    })),
  };
}

/** The latest token per source. */
async function readTokens(transport: Transport, pipeline: string): Promise<Map<string, SourceToken>> {
  const fold = new TokenFold();
  await transport.readToEnd(topics.tokens(pipeline), (record) => fold.add(record.key, record.value));
  return fold.latest();
}

export function formatStatus(status: PipelineStatus): string {
  const incremental = status.sources.flatMap((s) => s.incremental.map((i) => [s.name, i.table, i.reason, i.id, rowsOfEstimate(i.rows, i.estimatedRows), String(i.chunks), i.requestedAt]));
  return [
    `pipeline ${status.pipeline}`,
    '',
    'sources',
    formatTable(
      ['source', 'phase', 'position', 'token written', 'snapshot'],
      status.sources.map((s) => [
        s.name,
        s.phase,
        s.position ?? '-',
        s.tokenWrittenAt ?? '-',
        s.snapshot ? `${s.snapshot.tablesDone}/${s.snapshot.tables} tables, ${s.snapshot.rows} rows` : '-',
      ]),
    ),
    '',
    'captured tables',
    formatTable(
      ['source', 'table', 'since'],
      status.sources.flatMap((s) => (s.captured === null ? [[s.name, '-', '-']] : s.captured.map((c) => [s.name, c.table, c.since]))),
    ),
    '',
    'incremental snapshots',
    incremental.length === 0 ? 'none' : formatTable(['source', 'table', 'reason', 'request', 'rows', 'chunks', 'requested'], incremental),
    '',
    'consumer groups',
    formatTable(
      ['stage', 'group', 'members', 'topic', 'partition', 'committed', 'end', 'lag'],
      status.stages.flatMap((stage) =>
        stage.partitions.length === 0
          ? [[stage.stage, stage.group, String(stage.members), '-', '-', '-', '-', '-']]
          : stage.partitions.map((p) => [stage.stage, stage.group, String(stage.members), p.topic, String(p.partition), p.committed ?? '-', p.end, String(p.lag)]),
      ),
    ),
  ].join('\n');
}

/** `1200/5000 (24%)`: rows done of the server's estimate (statistics: it may be passed). */
function rowsOfEstimate(rows: number, estimate: number | null): string {
  if (estimate === null || estimate === 0) return String(rows);
  return `${rows}/${estimate} (${Math.min(100, Math.floor((rows / estimate) * 100))}%)`;
}
