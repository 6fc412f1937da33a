import type { Consumer as KafkaJSConsumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Consumer, ConsumerOptions, TopicPartition } from '../../transport.ts';
import { consumedRecord, nextOffset } from './records.ts';

export interface GroupTimings {
  /** How long the group waits for a silent member (a killed process) before moving its partitions. */
  sessionTimeoutMs: number;
  /** How long a fetch waits for records when there are none: bounds how long stop() waits for one. */
  fetchMaxWaitMs: number;
}

/**
 * A consumer-group member over kafkajs with the Consumer contract of transport.ts:
 * - each partition's batch goes to `eachBatch`, partitions concurrently (one worker per partition it may
 *   own); its offset (past any transaction marker at its end) is committed only after the handler resolved;
 * - a handler that runs long heartbeats meanwhile, so the group does not take its partitions away;
 * - a handler that rejects stops the consumer with that error, its batch neither resolved nor committed;
 * - when this member is giving its partitions up, each batch's `signal` is aborted, so a handler waiting to
 *   retry (a sink's target down) stops and its rejection only leaves the batch uncommitted: a heartbeat
 *   that answers that the group is rebalancing or has dropped this member, or stop(), or a failure. KafkaJS
 *   rejoins only after every batch of its fetch has returned, and the coordinator waits for that no longer
 *   than the rebalance timeout (60 s): a handler still retrying then would be evicted and go on writing
 *   while the partition's new owner applies the same records, and meanwhile no member of the group reads;
 * - rebalances: KafkaJS notices one at a heartbeat, lets every batch of the current fetch finish (each
 *   commits as it ends: the broker accepts commits of the old generation until the group re-forms), then
 *   rejoins. `onRevocation` runs at that moment and `onAssignment` after the join, one after the other,
 *   never overlapping. A commit that still comes too late fails, and the batch is delivered again: at
 *   least once, never lost.
 */
export class KafkaConsumer implements Consumer {
  readonly done: Promise<void>;
  private settle!: (error?: { error: unknown }) => void;
  private readonly consumer: KafkaJSConsumer;
  /** onRevocation / onAssignment, in the order the group went through them. */
  private hooks: Promise<void> = Promise.resolve();
  private assigned = false;
  private stopping: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  /** One per batch in progress, aborted when this member gives its partitions up. */
  private readonly inProgress = new Set<AbortController>();

  private constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly timings: GroupTimings,
    ownablePartitions: number,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (failed) => (failed === undefined ? resolve() : reject(failed.error));
    });
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: timings.sessionTimeoutMs,
      // Kafka's rule of thumb: a third of the session timeout at most.
      heartbeatInterval: Math.floor(timings.sessionTimeoutMs / 10),
      maxWaitTimeInMs: timings.fetchMaxWaitMs,
      ...(options.maxBytesPerPartition === undefined ? {} : fetchBytes(options.maxBytesPerPartition, ownablePartitions)),
      // readUncommitted stays false: records of aborted transactions are never seen.
    });
  }

  /** Joins the group; resolves once the first assignment has been handed to onAssignment. */
  static async start(kafka: Kafka, options: ConsumerOptions, ownablePartitions: number, timings: GroupTimings): Promise<KafkaConsumer> {
    const member = new KafkaConsumer(kafka, options, timings, ownablePartitions);
    await member.run(ownablePartitions);
    return member;
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.consumer.pause(byTopic(partitions));
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.consumer.resume(byTopic(partitions));
  }

  stop(): Promise<void> {
    return this.shutdown();
  }

  private async run(ownablePartitions: number): Promise<void> {
    const { events } = this.consumer;
    this.consumer.on(events.REBALANCING, () => this.queueHook(() => this.revoke()));
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      const assignment = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
      // A member dropped by the coordinator (session expired) rejoins without a REBALANCING event: what
      // it owned is gone all the same, so revocation comes first whenever it has not yet.
      this.queueHook(async () => {
        await this.revoke();
        this.assigned = true;
        await this.options.onAssignment?.(assignment);
      });
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.queueHook(() => this.revoke());
      // KafkaJS restarts the consumer after a retriable error; anything else ends it.
      if (!payload.restart) this.fail(payload.error);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: ownablePartitions,
      eachBatch: (payload) => this.handle(payload),
    });
    await this.hooks;
    if (this.failure) throw this.failure.error;
  }

  private async handle({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    // Fetched before a stop, a failure or a seek: leave it for whoever reads this partition next.
    if (this.failure || !isRunning() || isStale() || batch.messages.length === 0) return;
    const { topic, partition } = batch;
    const records = batch.messages.map((message) => consumedRecord(topic, partition, message));
    const owned = new AbortController();
    this.inProgress.add(owned);
    const keepAlive = setInterval(() => {
      // KafkaJS itself notices a failed heartbeat again after the batch, and rejoins.
      heartbeat().catch((error: unknown) => {
        if (partitionsLost(error)) owned.abort();
      });
    }, Math.floor(this.timings.sessionTimeoutMs / 10));
    try {
      await this.options.eachBatch({ topic, partition, records, signal: owned.signal });
    } catch (error) {
      // Given up: whoever owns the partition next reads the batch again from the committed offset.
      if (!owned.signal.aborted) this.fail(error);
      return;
    } finally {
      clearInterval(keepAlive);
      this.inProgress.delete(owned);
    }
    resolveOffset(records[records.length - 1]!.offset);
    // lastOffset() counts a transaction's commit marker after the last record, so the group does not
    // stop short of it (and lag reads 0 when everything is applied).
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset(batch.lastOffset()) }] }] });
  }

  private queueHook(hook: () => Promise<void>): void {
    this.hooks = this.hooks.then(hook).catch((error: unknown) => this.fail(error));
  }

  private async revoke(): Promise<void> {
    if (!this.assigned) return;
    this.assigned = false;
    await this.options.onRevocation?.();
  }

  private fail(error: unknown): void {
    if (this.failure || this.stopping) return;
    this.failure = { error };
    void this.shutdown();
  }

  /** KafkaJS's disconnect lets the batches in progress finish (each commits), then leaves the group. */
  private shutdown(): Promise<void> {
    return (this.stopping ??= (async () => {
      // A batch that is only waiting to retry is not worth waiting for: on restart it is read again.
      for (const owned of this.inProgress) owned.abort();
      await this.consumer.disconnect().catch(() => {});
      this.queueHook(() => this.revoke());
      await this.hooks;
      this.settle(this.failure);
    })());
  }
}

/** KafkaJS's fetch limits: per partition as asked, and a whole fetch no larger than every partition's share (KafkaJS's default, 10 MB, at most). */
function fetchBytes(maxBytesPerPartition: number, ownablePartitions: number): { maxBytesPerPartition: number; maxBytes: number } {
  return { maxBytesPerPartition, maxBytes: Math.min(10 * 2 ** 20, maxBytesPerPartition * Math.max(1, ownablePartitions)) };
}

/**
 * A heartbeat answer after which KafkaJS rejoins the group (runner.js, isRebalancing and UNKNOWN_MEMBER_ID):
 * with the eager protocol KafkaJS speaks, this member gives up every partition it owns.
 */
const PARTITIONS_LOST = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP']);

function partitionsLost(error: unknown): boolean {
  return typeof error === 'object' && error !== null && PARTITIONS_LOST.has((error as { type?: string }).type ?? '');
}

function byTopic(partitions: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, numbers]) => ({ topic, partitions: numbers }));
}
