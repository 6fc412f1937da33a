import type { RawRecord } from './serde.ts';

/**
 * What the topology needs from a log: the Kafka transport (transports/kafka.ts) and the broker-free one
 * (transports/memory.ts, the TopologyTestDriver role) both implement it, so one topology runs on either.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** cleanup.policy=compact (the token topic). */
  compacted?: boolean;
}

export interface OutgoingRecord {
  topic: string;
  /** Always explicit: the topology computes it with the Java partitioner (murmur2.ts). */
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

export interface ConsumedRecord extends RawRecord {
  headers: Record<string, string>;
  /** Append time, ms since epoch. */
  timestamp: number;
}

export interface Producer {
  /**
   * Resolves once every record is acknowledged by all in-sync replicas (acks=all). A transactional
   * producer writes the records in one transaction: all become visible to read_committed consumers, or none.
   */
  send(records: readonly OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionBatch extends TopicPartition {
  /** In offset order, never empty. */
  records: readonly ConsumedRecord[];
}

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /**
   * One partition's batch. Partitions run concurrently, each in order. The offset after the batch is
   * committed only once this resolves; if it rejects, nothing is committed and the consumer stops
   * with that error (retries belong inside, in retry.ts).
   */
  eachBatch(batch: PartitionBatch): Promise<void>;
  /** A rebalance starts: this member gives up every partition it owned (eager protocol). */
  onRevocation?(): Promise<void> | void;
  /** The partitions this member owns after a rebalance. */
  onAssignment?(assigned: readonly TopicPartition[]): Promise<void> | void;
}

export interface Consumer {
  /** Resolves when stopped; rejects with the error that stopped it. */
  readonly done: Promise<void>;
  /** Stops fetching for a partition (backpressure); batches in progress finish. */
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Finishes the batches in progress, commits their offsets, leaves the group. */
  stop(): Promise<void>;
}

/** A partition offset: the next offset a consumer reads. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface Transport {
  /** Creates missing topics; an existing topic must already have the requested partition count. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  producer(options?: { transactionalId?: string }): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<Consumer>;
  /** Reads a topic from its start up to the end offsets it had when called (committed records only). */
  readToEnd(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<void>;
  /** Admin operations for replay (replay.ts). */
  groupMembers(groupId: string): Promise<number>;
  setGroupOffsets(groupId: string, topic: string, offsets: readonly PartitionOffset[]): Promise<void>;
  /** Per partition, the earliest offset whose record is at or after `timestamp` (the end offset if none). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]>;
  /** Per partition, the log start offset. */
  earliestOffsets(topic: string): Promise<PartitionOffset[]>;
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}
