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

  private constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly timings: GroupTimings,
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
      // readUncommitted stays false: records of aborted transactions are never seen.
    });
  }

  /** Joins the group; resolves once the first assignment has been handed to onAssignment. */
  static async start(kafka: Kafka, options: ConsumerOptions, ownablePartitions: number, timings: GroupTimings): Promise<KafkaConsumer> {
    const member = new KafkaConsumer(kafka, options, timings);
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
    const keepAlive = setInterval(() => {
      // A failed heartbeat (a rebalance began) is noticed again by KafkaJS after the batch.
      heartbeat().catch(() => {});
    }, Math.floor(this.timings.sessionTimeoutMs / 10));
    try {
      await this.options.eachBatch({ topic, partition, records });
    } catch (error) {
      this.fail(error);
      return;
    } finally {
      clearInterval(keepAlive);
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
      await this.consumer.disconnect().catch(() => {});
      this.queueHook(() => this.revoke());
      await this.hooks;
      this.settle(this.failure);
    })());
  }
}

function byTopic(partitions: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, numbers]) => ({ topic, partitions: numbers }));
}
