/**
 * Which KafkaJS log entries belong to a healthy run (topology/transports/kafka/expected-logs.ts). The
 * entries are the ones a healthy `npm run demo` logged, as KafkaJS hands them to the log creator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { expectedKafkaLog, RETRIED_KAFKA_ERRORS } from '../../topology/transports/kafka/expected-logs.ts';

const connection = { broker: '127.0.0.1:9092', clientId: 'cdc', correlationId: 5, size: 20 };

test('the retried errors are named by the messages KafkaJS gives them', () => {
  const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: Array<{ type: string; message: string }> };
  for (const [type, message] of Object.entries(RETRIED_KAFKA_ERRORS)) assert.equal(errorCodes.find((code) => code.type === type)?.message, message, type);
});

test('a failed response KafkaJS retries is expected, and counted once: on the connection, not on the send or rejoin that retries it', () => {
  const concurrent = RETRIED_KAFKA_ERRORS.CONCURRENT_TRANSACTIONS;
  assert.deepEqual(expectedKafkaLog({ namespace: 'Connection', message: 'Response AddPartitionsToTxn(key: 24, version: 1)', fields: { ...connection, error: concurrent } }), {
    reason: 'CONCURRENT_TRANSACTIONS',
    retried: true,
  });
  assert.deepEqual(expectedKafkaLog({ namespace: 'Producer', message: `Failed to send messages: ${concurrent}`, fields: { retryCount: 0, retryTime: 25 } }), {
    reason: 'CONCURRENT_TRANSACTIONS',
    retried: false,
  });
  for (const [message, type] of [
    ['Response InitProducerId(key: 22, version: 1)', 'GROUP_LOAD_IN_PROGRESS'],
    ['Response GroupCoordinator(key: 10, version: 2)', 'GROUP_COORDINATOR_NOT_AVAILABLE'],
    ['Response InitProducerId(key: 22, version: 1)', 'NOT_COORDINATOR_FOR_GROUP'],
    ['Response Heartbeat(key: 12, version: 3)', 'REBALANCE_IN_PROGRESS'],
  ] as const) {
    assert.deepEqual(expectedKafkaLog({ namespace: 'Connection', message, fields: { ...connection, error: RETRIED_KAFKA_ERRORS[type] } }), { reason: type, retried: true });
  }
  assert.deepEqual(
    expectedKafkaLog({ namespace: 'Runner', message: 'The group is rebalancing, re-joining', fields: { groupId: 'g', memberId: 'm', error: RETRIED_KAFKA_ERRORS.REBALANCE_IN_PROGRESS } }),
    { reason: 'REBALANCE_IN_PROGRESS', retried: false },
  );
});

test("KafkaJS's notice about the producer's limited retries is expected, and no retry", () => {
  assert.deepEqual(expectedKafkaLog({ namespace: 'Producer', message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees', fields: {} }), {
    reason: 'idempotent-retries-limited',
    retried: false,
  });
});

test('real problems are not expected: an unreachable broker, an evicted member, other errors, and what KafkaJS gave up on', () => {
  for (const entry of [
    { namespace: 'BrokerPool', message: 'Failed to connect to broker, reconnecting', fields: { retryCount: 3, retryTime: 1200 } },
    { namespace: 'Connection', message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', fields: { broker: '127.0.0.1:9092', stack: '' } },
    { namespace: 'Runner', message: 'The coordinator is not aware of this member, re-joining the group', fields: { error: 'The coordinator is not aware of this member' } },
    { namespace: 'Producer', message: 'Failed to send messages: The broker received an out of order sequence number', fields: { retryCount: 1, retryTime: 50 } },
    { namespace: 'Consumer', message: `Crash: KafkaJSNumberOfRetriesExceeded: ${RETRIED_KAFKA_ERRORS.GROUP_COORDINATOR_NOT_AVAILABLE}`, fields: { groupId: 'g', retryCount: 5 } },
    { namespace: 'Producer', message: `Failed to send messages: ${RETRIED_KAFKA_ERRORS.CONCURRENT_TRANSACTIONS}`, fields: {} },
  ]) {
    assert.equal(expectedKafkaLog(entry), undefined, entry.message);
  }
});
