import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Admin } from 'kafkajs';
import { topicMetadata } from '../../topology/transports/kafka/topic-metadata.ts';

/** A broker's answer as KafkaJS's cluster.metadata rejects with it (it bails on everything but LEADER_NOT_AVAILABLE). */
function protocolError(type: string, retriable: boolean): Error {
  return new kafkajs.KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 3, retriable }));
}

/** An admin whose fetchTopicMetadata fails with `errors` in turn, then answers; counts the calls. */
function adminFailing(...errors: Error[]): { admin: Admin; calls: () => number } {
  let calls = 0;
  const admin = {
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      const error = errors[calls++];
      if (error) throw error;
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }] })) };
    },
  } as unknown as Admin;
  return { admin, calls: () => calls };
}

test('a topic not yet in the broker metadata cache (UNKNOWN_TOPIC_OR_PARTITION right after creating it) is asked for again, not a failed start', async () => {
  const unknown = () => protocolError('UNKNOWN_TOPIC_OR_PARTITION', true);
  const { admin, calls } = adminFailing(unknown(), unknown());
  const topics = await topicMetadata(admin, ['p.tokens', 'p.changes']);
  assert.deepEqual(topics.map(({ name, partitions }) => [name, partitions.length]), [['p.tokens', 1], ['p.changes', 1]]);
  assert.equal(calls(), 3);
});

test('an error the broker marks final (authorization) is not retried and names the topics', async () => {
  const { admin, calls } = adminFailing(protocolError('TOPIC_AUTHORIZATION_FAILED', false));
  await assert.rejects(topicMetadata(admin, ['p.tokens']), /reading the metadata of p\.tokens failed: TOPIC_AUTHORIZATION_FAILED/);
  assert.equal(calls(), 1);
});
