import { CdcError } from './errors.ts';

/**
 * The one place that decides what is retried: a CdcError says so itself (`retriable`); a KafkaJS error
 * says so with its own `retriable` flag (broker not available, leader moved, connection lost, request
 * timed out, ...; a fenced producer is not), with two corrections:
 * - a rebalance in progress is marked non-retriable by KafkaJS (the consumer must rejoin), but for the
 *   work that met it (a commit, a send) it only means "again in a moment";
 * - KafkaJSNumberOfRetriesExceeded is KafkaJS giving up its own retries: retriable when what it gave up
 *   on was (a broker down for longer than KafkaJS waits), so the topology's backoff takes over; so is a
 *   KafkaJSNonRetriableError that nested KafkaJS retriers wrap around a retriable cause.
 * Everything else is fatal and is rethrown at once.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof CdcError) return error.retriable;
  if (!(error instanceof Error) || !error.name.startsWith('KafkaJS')) return false;
  const kafka = error as Error & { retriable?: boolean; type?: string };
  if (kafka.type === 'REBALANCE_IN_PROGRESS') return true;
  if (error.name === 'KafkaJSNumberOfRetriesExceeded') return isRetriable(error.cause);
  // An outer KafkaJS retrier wraps an inner one's KafkaJSNumberOfRetriesExceeded in a KafkaJSNonRetriableError
  // whose cause is what failed (a producer's connect while the broker is down): KafkaJS giving up too.
  if (error.name === 'KafkaJSNonRetriableError' && error.cause instanceof Error && error.cause !== error && (error.cause as { retriable?: boolean }).retriable === true) return true;
  return kafka.retriable === true;
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Told before each wait, e.g. to pause a partition or log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Once aborted, no further attempt starts: the last error is thrown (a wait in progress ends at once). */
  signal?: AbortSignal;
}

export async function withRetry<T>(what: string, run: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  let delay = options.initialDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isRetriable(error) || attempt >= attempts || options.signal?.aborted) throw givenUp(what, error, attempt);
      // Full jitter, so processes that failed together do not retry together.
      const wait = Math.round(Math.random() * delay);
      options.onRetry?.(error, attempt, wait);
      // An abort (say, the partition is moving to another process) ends the wait and the retries at once.
      await backoff(wait, options.signal);
      if (options.signal?.aborted) throw givenUp(what, error, attempt);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 10_000);
    }
  }
}

function givenUp(what: string, error: unknown, attempt: number): CdcError {
  if (error instanceof CdcError && !error.retriable) return error;
  return new CdcError('INTERNAL', `${what} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${(error as Error).message}`, { cause: error });
}

function backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}
