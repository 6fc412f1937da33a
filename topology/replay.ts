import type { PartitionOffset, Transport } from './transport.ts';
import { CdcError } from './errors.ts';
import { groups, topics } from './topics.ts';

/** Where a replayed sink starts again: the earliest offsets, given offsets per partition, or the first record at or after a time (ms since epoch). */
export type ReplayFrom = { earliest: true } | { offsets: readonly PartitionOffset[] } | { timestamp: number };

/**
 * Moves a sink's consumer group on the repartition topic back (or forward) so the next run applies
 * again from there; idempotent sinks converge whatever suffix is replayed. Refuses while the group has
 * live members: Kafka itself rejects offset changes of a non-empty group, and a running sink would
 * overwrite them with its next commit. Stop the pipeline's processes first. Returns the offsets set.
 */
export async function replaySink(transport: Transport, pipeline: string, sink: string, from: ReplayFrom): Promise<PartitionOffset[]> {
  const groupId = groups.sink(pipeline, sink);
  const topic = topics.repartition(pipeline);
  const members = await transport.groupMembers(groupId);
  if (members > 0) {
    throw new CdcError('CONFIG_INVALID', `cannot replay sink ${sink}: its consumer group ${groupId} has ${members} live member(s); stop the pipeline's processes first`);
  }
  const offsets =
    'earliest' in from ? await transport.earliestOffsets(topic) : 'timestamp' in from ? await transport.offsetsForTimestamp(topic, from.timestamp) : from.offsets;
  await transport.setGroupOffsets(groupId, topic, offsets);
  return [...offsets];
}
