import { consumerLag, type PartitionLag } from '../../topology/lag.ts';
import type { SourceToken } from '../../topology/token.ts';
import { tokenKey } from '../../topology/token.ts';
import { groups, topics } from '../../topology/topics.ts';
import type { Transport } from '../../topology/transport.ts';
import type { Logger } from '../../topology/log.ts';
import type { PipelineConfig } from '../config-schema.ts';
import { buildPipeline, repartitionOf } from '../pipeline.ts';
import { checkReachable } from '../reachability.ts';
import { formatTable } from '../table.ts';

export interface PipelineStatus {
  pipeline: string;
  sources: Array<{
    name: string;
    phase: SourceToken['phase'] | 'not started';
    position: string | null;
    tokenWrittenAt: string | null;
    snapshot: { tables: number; tablesDone: number; rows: number } | null;
  }>;
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
      sources: config.sources.map(({ name }) => {
        const token = tokens.get(tokenKey(pipeline, name));
        const tables = Object.values(token?.snapshot ?? {});
        return {
          name,
          phase: token?.phase ?? 'not started',
          position: token?.position ?? null,
          tokenWrittenAt: token ? new Date(token.writtenAt).toISOString() : null,
          snapshot: token?.snapshot ? { tables: tables.length, tablesDone: tables.filter((t) => t.done).length, rows: tables.reduce((n, t) => n + t.rows, 0) } : null,
        };
      }),
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

/** The latest token per source. */
async function readTokens(transport: Transport, pipeline: string): Promise<Map<string, SourceToken>> {
  const latest = new Map<string, SourceToken>();
  await transport.readToEnd(topics.tokens(pipeline), (record) => {
    const key = record.key?.toString();
    if (key === undefined) return;
    if (record.value === null) latest.delete(key);
    else latest.set(key, JSON.parse(record.value.toString()) as SourceToken);
  });
  return latest;
}

export function formatStatus(status: PipelineStatus): string {
  const lines = [`pipeline ${status.pipeline}`, '', 'sources'];
  lines.push(
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
    'consumer groups',
  );
  lines.push(
    formatTable(
      ['stage', 'group', 'members', 'topic', 'partition', 'committed', 'end', 'lag'],
      status.stages.flatMap((stage) =>
        stage.partitions.length === 0
          ? [[stage.stage, stage.group, String(stage.members), '-', '-', '-', '-', '-']]
          : stage.partitions.map((p) => [stage.stage, stage.group, String(stage.members), p.topic, String(p.partition), p.committed ?? '-', p.end, String(p.lag)]),
      ),
    ),
  );
  return lines.join('\n');
}
