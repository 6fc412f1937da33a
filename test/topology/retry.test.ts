import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { CdcError, ConfigError, TransientError, UnreachableError } from '../../topology/errors.ts';
import { isRetriable, withRetry, type RetryOptions } from '../../topology/retry.ts';

// The clock and setTimeout are fake: every wait below passes only when a test moves the clock.
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

/** A KafkaJS protocol error as a broker answer makes it (type, code, and KafkaJS's own retriable flag). */
function protocolError(type: string, retriable: boolean): Error {
  return new kafkajs.KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 0, retriable }));
}

/** A run that fails with `errors` in turn, then answers 'done'; counts its attempts. */
function failing(...errors: unknown[]): { run: () => Promise<string>; attempts: () => number } {
  let attempts = 0;
  return {
    run: async () => {
      const error = errors[attempts++];
      if (error !== undefined) throw error;
      return 'done';
    },
    attempts: () => attempts,
  };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Runs withRetry, moving the fake clock through each wait it announces; the waits and the outcome. */
async function retried<T>(run: () => Promise<T>, options: RetryOptions = {}): Promise<{ waits: number[]; outcome: { value: T } | { error: unknown } }> {
  const waits: number[] = [];
  let outcome: { value: T } | { error: unknown } | undefined;
  withRetry('write x', run, { ...options, onRetry: (_error, _attempt, delay) => waits.push(delay) }).then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  for (let told = 0; ; ) {
    await flush();
    if (outcome !== undefined) return { waits, outcome };
    assert.ok(waits.length > told, 'withRetry waits without having announced the wait');
    mock.timers.tick(waits[told++]!);
  }
}

const errorOf = (outcome: { value: unknown } | { error: unknown }): unknown => {
  assert.ok('error' in outcome, 'expected a rejection');
  return outcome.error;
};

test('what is retriable: our errors say so themselves; KafkaJS errors by their flag, rebalances and retriable causes included', () => {
  assert.equal(isRetriable(new UnreachableError('registry down')), true);
  assert.equal(isRetriable(new TransientError('deadlock')), true);
  assert.equal(isRetriable(new CdcError('APPLY_REJECTED', 'lock wait', { retriable: true })), true);
  assert.equal(isRetriable(new CdcError('INTERNAL', 'bug')), false);
  assert.equal(isRetriable(new ConfigError('bad config')), false);

  assert.equal(isRetriable(new kafkajs.KafkaJSConnectionError('connection refused')), true);
  assert.equal(isRetriable(protocolError('LEADER_NOT_AVAILABLE', true)), true);
  assert.equal(isRetriable(new kafkajs.KafkaJSNonRetriableError('fenced')), false);
  assert.equal(isRetriable(protocolError('UNKNOWN_MEMBER_ID', false)), false);
  // KafkaJS marks it non-retriable (the consumer must rejoin); for a commit or a send it means "again soon".
  assert.equal(isRetriable(protocolError('REBALANCE_IN_PROGRESS', false)), true);
  const exhausted = (cause: Error) => new kafkajs.KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1000 });
  assert.equal(isRetriable(exhausted(new kafkajs.KafkaJSConnectionError('broker down'))), true);
  assert.equal(isRetriable(exhausted(new kafkajs.KafkaJSNonRetriableError('fenced'))), false);
  // Nested KafkaJS retriers (found by test/faults/broker.it.test.ts: a producer connecting while the broker
  // is down ended `cdc run`): the outer one wraps the inner one's give-up in a KafkaJSNonRetriableError whose
  // cause is the connection error.
  // (KafkaJS's constructors take the cause as an option its types leave out.)
  const NonRetriable = kafkajs.KafkaJSNonRetriableError as unknown as new (error: Error, options: { cause: Error }) => Error;
  const connectionError = new kafkajs.KafkaJSConnectionError('connect ECONNREFUSED');
  assert.equal(isRetriable(new NonRetriable(exhausted(connectionError), { cause: connectionError })), true);
  const invalid = new Error('Invalid topic');
  assert.equal(isRetriable(new NonRetriable(invalid, { cause: invalid })), false);

  // Only KafkaJS's own errors are trusted with a `retriable` property.
  assert.equal(isRetriable(Object.assign(new Error('looks retriable'), { retriable: true })), false);
  assert.equal(isRetriable(new Error('boom')), false);
  assert.equal(isRetriable('a string'), false);
  assert.equal(isRetriable(undefined), false);
});

test('a first success returns at once: one attempt, no wait', async () => {
  const target = failing();
  const { waits, outcome } = await retried(target.run);
  assert.deepEqual(outcome, { value: 'done' });
  assert.deepEqual(waits, []);
  assert.equal(target.attempts(), 1);
  assert.equal(Date.now(), 0);
});

test('retriable errors are retried after full-jitter waits that double from initialDelayMs up to maxDelayMs', async () => {
  mock.method(Math, 'random', () => 0.5);
  const down = new TransientError('target down');
  const target = failing(down, down, down, down, down);
  const { waits, outcome } = await retried(target.run, { initialDelayMs: 100, maxDelayMs: 500, attempts: 6 });
  assert.deepEqual(outcome, { value: 'done' });
  // Half of 100, 200, 400, then of the 500 cap.
  assert.deepEqual(waits, [50, 100, 200, 250, 250]);
  assert.equal(target.attempts(), 6);
  assert.equal(Date.now(), 850);
});

test('the jitter draws each wait anywhere from 0 to the current delay', async () => {
  const draws = [0, 0.999];
  mock.method(Math, 'random', () => draws.shift()!);
  const down = new TransientError('target down');
  const { waits } = await retried(failing(down, down).run, { initialDelayMs: 1000 });
  assert.deepEqual(waits, [0, 1998]);
});

test('the next attempt starts only once its wait has passed', async () => {
  mock.method(Math, 'random', () => 0.5);
  const target = failing(new TransientError('target down'));
  const result = withRetry('apply', target.run, { initialDelayMs: 200 });
  await flush();
  assert.equal(target.attempts(), 1);
  mock.timers.tick(99);
  await flush();
  assert.equal(target.attempts(), 1);
  mock.timers.tick(1);
  assert.equal(await result, 'done');
  assert.equal(target.attempts(), 2);
});

test('by default it gives up after 8 attempts (waits from 100 ms, doubling) with a non-retriable INTERNAL error carrying the last cause', async () => {
  mock.method(Math, 'random', () => 0.99999);
  const errors = Array.from({ length: 8 }, (_, i) => new kafkajs.KafkaJSConnectionError(`broker down ${i + 1}`));
  const target = failing(...errors);
  const { waits, outcome } = await retried(target.run);
  assert.deepEqual(waits, [100, 200, 400, 800, 1600, 3200, 6400]);
  assert.equal(target.attempts(), 8);
  const error = errorOf(outcome);
  assert.ok(error instanceof CdcError);
  assert.equal(error.code, 'INTERNAL');
  assert.equal(error.retriable, false);
  assert.equal(error.message, 'write x failed after 8 attempts: broker down 8');
  assert.equal(error.cause, errors[7]);
});

test('a non-retriable CdcError is thrown at once, as it is', async () => {
  const fatal = new ConfigError('no such table');
  const target = failing(fatal);
  const { waits, outcome } = await retried(target.run);
  assert.equal(errorOf(outcome), fatal);
  assert.deepEqual(waits, []);
  assert.equal(target.attempts(), 1);
});

test('any other non-retriable error is thrown at once as INTERNAL, with its cause', async () => {
  const boom = new TypeError('undefined is not a function');
  const { waits, outcome } = await retried(failing(new TransientError('busy'), boom).run);
  const error = errorOf(outcome);
  assert.ok(error instanceof CdcError);
  assert.equal(error.code, 'INTERNAL');
  assert.equal(error.message, 'write x failed after 2 attempts: undefined is not a function');
  assert.equal(error.cause, boom);
  assert.equal(waits.length, 1);
});

test('an abort ends the wait in progress at once and starts no further attempt', async () => {
  const abort = new AbortController();
  const down = new TransientError('target down');
  const target = failing(down, down);
  let rejection: unknown;
  withRetry('apply', target.run, { initialDelayMs: 10_000, signal: abort.signal }).catch((error: unknown) => (rejection = error));
  const settled = () => rejection;
  await flush();
  assert.equal(target.attempts(), 1);
  assert.equal(settled(), undefined);
  abort.abort();
  await flush();
  const error = settled();
  assert.ok(error instanceof CdcError);
  assert.equal(error.cause, down);
  assert.equal(target.attempts(), 1);
  assert.equal(Date.now(), 0);
});

test('with a signal aborted before the first failure, that failure is final', async () => {
  const abort = new AbortController();
  abort.abort();
  const down = new TransientError('target down');
  const target = failing(down);
  const { waits, outcome } = await retried(target.run, { signal: abort.signal });
  assert.equal((errorOf(outcome) as CdcError).cause, down);
  assert.deepEqual(waits, []);
  assert.equal(target.attempts(), 1);
});
