import type { Admin, PartitionMetadata } from 'kafkajs';
import { withRetry } from '../../retry.ts';

export interface TopicMetadata {
  name: string;
  partitions: PartitionMetadata[];
}

/**
 * The partitions of topics this process has just created or found. A topic created a moment ago may not
 * be in the answering broker's metadata cache yet, and KafkaJS's cluster.metadata gives up at once on
 * UNKNOWN_TOPIC_OR_PARTITION (it retries only LEADER_NOT_AVAILABLE), although the protocol marks that
 * error retriable. For topics that exist it only means "again in a moment": the call is retried with the
 * topology's backoff (retry.ts decides), so a fresh pipeline does not fail its start on it.
 */
export async function topicMetadata(admin: Admin, topics: readonly string[]): Promise<TopicMetadata[]> {
  return withRetry(`reading the metadata of ${topics.join(', ')}`, async () => (await admin.fetchTopicMetadata({ topics: [...topics] })).topics, { attempts: 10 });
}
