import { replaySink, type ReplayFrom } from '../../topology/replay.ts';
import { groups } from '../../topology/topics.ts';
import type { PartitionOffset } from '../../topology/transport.ts';
import type { Logger } from '../../topology/log.ts';
import type { PipelineConfig } from '../config-schema.ts';
import { buildPipeline } from '../pipeline.ts';
import { checkReachable } from '../reachability.ts';
import { badOption, OFFSETS_EXAMPLE, parseIsoTime, parseOffsets, requireConfigured, TIME_EXAMPLE } from '../option-values.ts';

export interface ReplayOptions {
  sink: string;
  from: string;
  /**
   * The group's members are processes already stopped (a killed one lingers until its session times
   * out): wait up to `forceWaitMs` for them to expire instead of refusing at once.
   */
  force: boolean;
  forceWaitMs?: number;
}

/** `earliest`, an ISO time, or `partition:offset,...`. */
export function parseReplayFrom(text: string): ReplayFrom {
  if (text === 'earliest') return { earliest: true };
  const offsets = parseOffsets(text);
  if (offsets) return { offsets };
  const timestamp = parseIsoTime(text);
  if (timestamp !== undefined) return { timestamp };
  throw badOption('--from', text, `earliest, ${TIME_EXAMPLE} or ${OFFSETS_EXAMPLE}`);
}

/** `cdc replay`: moves the sink's consumer group so that its next run applies again from `from`. */
export async function replay(config: PipelineConfig, options: ReplayOptions, log: Logger): Promise<PartitionOffset[]> {
  requireConfigured('sink', config.sinks, options.sink);
  const from = parseReplayFrom(options.from);
  await checkReachable(config, { kafka: true });
  const { transport } = buildPipeline(config, { log });
  try {
    if (options.force) await waitForEmptyGroup(() => transport.groupMembers(groups.sink(config.pipeline, options.sink)), options.forceWaitMs ?? 60_000);
    return await replaySink(transport, config.pipeline, options.sink, from);
  } finally {
    await transport.close();
  }
}

async function waitForEmptyGroup(members: () => Promise<number>, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  while ((await members()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1_000));
}
