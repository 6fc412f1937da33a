/**
 * How `cdc run` reports a pipeline that failed while running. The fault suite (test/faults/broker.it.test.ts)
 * found that a broker stopped under a running pipeline ended it with KafkaJS's bare "Failed to find group
 * coordinator" (exit 1), also after the broker answered again: now a failure that says the brokers were
 * unavailable, or any Kafka client failure while they do not answer, names them (exit 3).
 * No server is needed: the brokers are a closed port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { parseConfig } from '../../cli/config.ts';
import { exitCodeOf } from '../../cli/main.ts';
import { explainRunFailure, kafkaUnavailable } from '../../cli/reachability.ts';
import { CdcError, UnreachableError } from '../../topology/errors.ts';

const config = parseConfig(
  `pipeline: lost
kafka: { brokers: ['127.0.0.1:1'] }
schemaRegistry: { url: 'http://127.0.0.1:1' }
sources:
  - { name: shop, type: mysql, url: 'mysql://u:p@127.0.0.1:1' }
`,
  'pipeline.yaml',
  {},
);
// kafkajs is CommonJS: its error classes are properties of the default export. KafkaJS throws this one with a message its types leave out.
const { KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } = kafkajs;
const KafkaJSGroupCoordinatorNotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;

test('a Kafka client failure while the brokers do not answer names the brokers and exits 3', async () => {
  for (const failure of [
    new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator'),
    // As the sink and repartition stages give up: a CdcError wrapping KafkaJS's own retries.
    new CdcError('INTERNAL', 'repartition s/0 failed after 8 attempts: connect ECONNREFUSED', {
      cause: new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:1'), { retryCount: 5, retryTime: 1000 }),
    }),
  ]) {
    const explained = await explainRunFailure(config, failure);
    assert.ok(explained instanceof UnreachableError, String(explained));
    assert.match(explained.message, /^kafka 127\.0\.0\.1:1: unavailable while running \(.+\); the pipeline stopped at its last committed tokens and offsets: run it again once the brokers answer$/);
    assert.equal(exitCodeOf(explained), 3);
  }
});

test('KafkaJS giving up on the brokers counts as Kafka unavailable even when they answer again (a broker still starting)', () => {
  assert.equal(kafkaUnavailable(new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator')), true);
  assert.equal(kafkaUnavailable(new CdcError('INTERNAL', 'x', { cause: new KafkaJSConnectionError('connect ECONNREFUSED') })), true);
  assert.equal(kafkaUnavailable(new kafkajs.KafkaJSNonRetriableError('The producer has been fenced')), false);
  assert.equal(kafkaUnavailable(new Error('ECONNREFUSED')), false);
});

test('any other failure is reported as it is', async () => {
  const other = new CdcError('INTERNAL', 'sink copy: something else');
  assert.equal(await explainRunFailure(config, other), other);
});
