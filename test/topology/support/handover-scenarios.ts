import assert from 'node:assert/strict';
import { TransientError } from '../../../topology/errors.ts';
import { withRetry } from '../../../topology/retry.ts';
import type { Consumer, PartitionBatch, Transport } from '../../../topology/transport.ts';
import { eventually } from './eventually.ts';

/**
 * Scenarios of the Consumer contract while a handler waits to retry (a sink's target is down), run on
 * either transport: the handler retries the way the sink runner does, with withRetry and the batch's
 * signal, for as long as it takes.
 */

const RECORDS = 3;

/** A one-partition topic holding RECORDS records, and a target that refuses every write until it is up. */
class DownTarget {
  up = false;
  attempts = 0;
  /** Batches whose handler was running at the same moment, at most: more than one is two owners at once. */
  mostConcurrent = 0;
  readonly applied = new Set<string>();
  /** Who gave a batch up because its signal was aborted. */
  readonly gaveUp: string[] = [];
  private running = 0;

  handler(member: string): (batch: PartitionBatch) => Promise<void> {
    return async (batch) => {
      this.mostConcurrent = Math.max(this.mostConcurrent, ++this.running);
      try {
        await withRetry(
          `apply ${batch.topic}/${batch.partition}`,
          async () => {
            this.attempts++;
            if (!this.up) throw new TransientError('target down');
            for (const record of batch.records) this.applied.add(record.offset);
          },
          { attempts: Number.POSITIVE_INFINITY, initialDelayMs: 5, maxDelayMs: 50, signal: batch.signal },
        );
      } catch (error) {
        if (batch.signal.aborted) this.gaveUp.push(member);
        throw error;
      } finally {
        this.running--;
      }
    };
  }
}

async function topicWithRecords(transport: Transport, topic: string): Promise<void> {
  await transport.createTopics([{ name: topic, partitions: 1 }]);
  const producer = await transport.producer();
  await producer.send(Array.from({ length: RECORDS }, (_, i) => ({ topic, partition: 0, key: null, value: Buffer.from(`record ${i}`) })));
  await producer.close();
}

/** Settles to the error that stopped the consumer, or undefined while it runs or once it stopped cleanly. */
function watch(consumer: Consumer): { error: unknown } {
  const seen: { error: unknown } = { error: undefined };
  consumer.done.catch((error: unknown) => (seen.error = error));
  return seen;
}

/**
 * A second member joins while the first one's batch is waiting to retry: the first gives the batch up
 * (uncommitted, its consumer still running), the group re-forms without waiting for the retries, no two
 * handlers ever hold the partition at once, and once the target is back every record is applied and
 * committed. `member()` is the transport a new member joins through (its own client for Kafka).
 */
export async function handoverWhileRetrying(member: () => Transport, topic: string, groupId: string): Promise<void> {
  const first = member();
  await topicWithRecords(first, topic);
  const target = new DownTarget();
  const options = { groupId, topics: [topic], fromBeginning: true };
  const a = await first.consumer({ ...options, eachBatch: target.handler('a') });
  const aFailure = watch(a);
  await eventually('the first member is retrying its batch', () => target.attempts >= 3);

  const second = member();
  // Resolves once the group has re-formed with both members.
  const b = await second.consumer({ ...options, eachBatch: target.handler('b') });
  const bFailure = watch(b);
  assert.deepEqual(target.gaveUp, ['a']);
  assert.equal(target.applied.size, 0);

  target.up = true;
  await eventually('every record is applied and committed', async () => (await first.committedOffsets(groupId, topic))[0]?.offset === String(RECORDS));
  assert.deepEqual([...target.applied].sort(), ['0', '1', '2']);
  assert.equal(target.mostConcurrent, 1, 'two members applied the partition at once');
  await b.stop();
  await a.stop();
  assert.equal(aFailure.error, undefined);
  assert.equal(bFailure.error, undefined);
}

/** stop() while a batch waits to retry: the retries end, the consumer stops cleanly, nothing is committed. */
export async function stopWhileRetrying(transport: Transport, topic: string, groupId: string): Promise<void> {
  await topicWithRecords(transport, topic);
  const target = new DownTarget();
  const consumer = await transport.consumer({ groupId, topics: [topic], fromBeginning: true, eachBatch: target.handler('a') });
  await eventually('the batch is retrying', () => target.attempts >= 3);
  await consumer.stop();
  await consumer.done;
  const attempts = target.attempts;
  assert.deepEqual(target.gaveUp, ['a']);
  assert.deepEqual(await transport.committedOffsets(groupId, topic), []);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(target.attempts, attempts, 'the handler went on retrying after stop()');
}
