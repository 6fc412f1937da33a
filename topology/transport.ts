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

/** A record to produce, with its topic and partition. */
export interface OutgoingRecord {
  topic: string;
  /** Always explicit: the topology computes it with the Java partitioner (murmur2.ts). */
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/** A record read from a topic, with where it was read. */
export interface ConsumedRecord extends RawRecord {
  headers: Record<string, string>;
  /** Append time, ms since epoch. */
  timestamp: number;
}

/** A record's size as the batch limits count it (sends split into requests, sink slices): its key and value bytes. */
export function recordBytes(record: { key: Buffer | null; value: Buffer | null }): number {
  return (record.key?.length ?? 0) + (record.value?.length ?? 0);
}

export interface ProducerOptions {
  /** Each send one transaction (see Producer.send); idempotent only when absent. */
  transactionalId?: string;
  /**
   * The largest record batch this producer writes, in bytes as Kafka lays it out (the transport bounds
   * each record's framing from above): a send is split so that no partition's part of one request is
   * larger. A consumer fetching at least this much of each partition then always gets whole batches.
   * Without it, a partition's part of a request is bounded only by the request's size.
   */
  maxPartitionBatchBytes?: number;
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
  /**
   * Aborted when this member is giving the partition up: a rebalance began, the group dropped the member,
   * or the consumer is stopping. The handler should then stop retrying (withRetry's `signal`) and reject:
   * the batch is not committed and its next owner reads it again. Until the handler returns, the group
   * cannot hand the partition to anyone else, and if it takes longer than the rebalance timeout the
   * group hands it over anyway, while this handler still writes.
   */
  signal: AbortSignal;
}

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /**
   * About how many bytes of one partition a fetch brings (Kafka still returns a whole record batch
   * larger than this): with the partitions fetched at once, what the consumer holds before its handler
   * runs. The transport's default when absent.
   */
  maxBytesPerPartition?: number;
  /**
   * One partition's batch. Partitions run concurrently, each in order. The offset after the batch is
   * committed only once this resolves; if it rejects, nothing is committed and the consumer stops
   * with that error (retries belong inside, in retry.ts), unless `batch.signal` was aborted: then the
   * batch is only left to the partition's next owner.
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
  /** Finishes the batches in progress and commits their offsets (their signals are aborted: one waiting to retry gives up), leaves the group. */
  stop(): Promise<void>;
}

/** A partition offset: the next offset a consumer reads. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** What stages need of a broker: topics, producers, consumer groups and their offsets. KafkaTransport and MemoryTransport implement it. */
export interface Transport {
  /** The names of the topics that exist. */
  listTopics(): Promise<string[]>;
  /** Creates missing topics; an existing topic must already have the requested partition count. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  producer(options?: ProducerOptions): Promise<Producer>;
  consumer(options: ConsumerOptions): Promise<Consumer>;
  /**
   * Reads a topic from its start up to the end offsets it had when called (committed records only). A
   * promise `onRecord` returns is awaited before the next record, so a reader can work in bounded chunks.
   */
  readToEnd(topic: string, onRecord: (record: ConsumedRecord) => unknown): Promise<void>;
  /** Admin operations for replay (replay.ts). */
  groupMembers(groupId: string): Promise<number>;
  setGroupOffsets(groupId: string, topic: string, offsets: readonly PartitionOffset[]): Promise<void>;
  /** Per partition, the earliest offset whose record is at or after `timestamp` (the end offset if none). */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]>;
  /** Per partition, the log start offset. */
  earliestOffsets(topic: string): Promise<PartitionOffset[]>;
  /** Per partition, the end offset (the offset the next record will get). */
  latestOffsets(topic: string): Promise<PartitionOffset[]>;
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}
