import type { Admin } from 'kafkajs';
import { CdcError } from '../../errors.ts';
import { withRetry } from '../../retry.ts';
import { topicMetadata } from './topic-metadata.ts';

export interface TopicPartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/**
 * Each partition's first and next offsets. KafkaJS's admin.fetchTopicOffsets asks the leader of each
 * partition as its cached metadata knows it; a partition with no leader yet (a topic created a moment
 * ago, a leader moving) is left out of its request and the call then fails with a TypeError of its own
 * ("Cannot destructure property 'partitions' of 'low.pop(...)'"). Both are "again in a moment": the
 * metadata is refreshed and the call retried with the topology's backoff.
 */
export async function topicOffsets(admin: Admin, topic: string): Promise<TopicPartitionOffsets[]> {
  return withRetry(`reading the offsets of ${topic}`, async () => {
    const [metadata] = await topicMetadata(admin, [topic]);
    const leaderless = (metadata?.partitions ?? []).filter((partition) => partition.leader < 0);
    if (leaderless.length > 0) throw notYet(topic, `partition ${leaderless[0]!.partitionId} has no leader`);
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (error instanceof TypeError) throw notYet(topic, 'a partition leader was not known', error);
      throw error;
    }
  }, { attempts: 10 });
}

function notYet(topic: string, why: string, cause?: unknown): CdcError {
  return new CdcError('TRANSIENT', `the offsets of ${topic} are not available yet: ${why}`, { retriable: true, cause });
}
