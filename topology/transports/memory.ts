import type {
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  OutgoingRecord,
  PartitionOffset,
  Producer,
  ProducerOptions,
  TopicPartition,
  TopicSpec,
  Transport,
} from '../transport.ts';
import { CdcError } from '../errors.ts';

/** Options of `new MemoryTransport(...)`. */
export interface MemoryTransportOptions {
  /** Records handed to one eachBatch call. */
  maxBatch?: number;
  /**
   * Drop records of non-compacted topics once every group reading them has committed past them, so a
   * long run holds only what is unconsumed (Kafka keeps it on disk; here it would be heap).
   */
  dropConsumed?: boolean;
  /**
   * With dropConsumed: a send waits while a partition it writes to, read by some group, holds this many
   * records. A broker keeps a backlog on disk, outside the process; without this the backlog between a
   * fast stage and a slow one would be heap here, and a memory test would measure the test driver.
   */
  maxRetained?: number;
  now?: () => number;
}

interface PartitionLog {
  /** Offset of records[0]: records below were dropped (dropConsumed). */
  base: number;
  records: ConsumedRecord[];
  wakers: Set<() => void>;
  /** Senders waiting for room (maxRetained). */
  roomWaiters: Array<() => void>;
}

interface Topic {
  spec: TopicSpec;
  partitions: PartitionLog[];
}

interface Group {
  committed: Map<string, number>;
  members: MemoryConsumer[];
  rebalanced: Promise<void>;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A broker-free transport, the role Kafka Streams' TopologyTestDriver plays: topics with partitions and
 * offsets, consumer groups with committed offsets and partition assignment across members, transactions
 * (a send is atomic, a newer producer with the same transactional id fences the older one), and the
 * token topic like any other. Tests read what came out per topic and partition and may make writes fail.
 */
export class MemoryTransport implements Transport {
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly fencing = new Map<string, number>();
  private readonly failing = new Map<string, Error>();
  readonly maxBatch: number;
  private readonly dropConsumed: boolean;
  private readonly maxRetained: number;
  readonly now: () => number;

  constructor(options: MemoryTransportOptions = {}) {
    this.maxBatch = options.maxBatch ?? 500;
    this.dropConsumed = options.dropConsumed ?? false;
    this.maxRetained = options.maxRetained ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  async listTopics(): Promise<string[]> {
    return [...this.topics.keys()];
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) {
      const existing = this.topics.get(spec.name);
      if (existing) {
        if (existing.spec.partitions !== spec.partitions) {
          throw new CdcError('CONFIG_INVALID', `topic ${spec.name} has ${existing.spec.partitions} partitions, the topology needs ${spec.partitions}`);
        }
        continue;
      }
      const partitions = Array.from({ length: spec.partitions }, () => ({ base: 0, records: [], wakers: new Set<() => void>(), roomWaiters: [] }));
      this.topics.set(spec.name, { spec: { ...spec }, partitions });
    }
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    const { transactionalId } = options;
    let epoch = 0;
    if (transactionalId !== undefined) {
      epoch = (this.fencing.get(transactionalId) ?? 0) + 1;
      this.fencing.set(transactionalId, epoch);
    }
    return {
      send: async (records) => {
        // An ack comes back asynchronously, as from a broker.
        await Promise.resolve();
        if (transactionalId !== undefined && this.fencing.get(transactionalId) !== epoch) {
          throw new CdcError('INTERNAL', `producer ${transactionalId} was fenced by a newer instance`);
        }
        for (const record of records) {
          const error = this.failing.get(record.topic);
          if (error) throw error;
          const log = this.log(record.topic, record.partition);
          while (log.records.length >= this.maxRetained && this.isConsumed(record.topic, record.partition)) {
            await new Promise<void>((resolve) => log.roomWaiters.push(resolve));
          }
        }
        for (const record of records) this.append(record);
      },
      close: async () => {},
    };
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    for (const topic of options.topics) this.topic(topic);
    const group = this.group(options.groupId);
    const consumer = new MemoryConsumer(this, group, options);
    group.members.push(consumer);
    await this.rebalance(group);
    return consumer;
  }

  async readToEnd(topic: string, onRecord: (record: ConsumedRecord) => unknown): Promise<void> {
    for (const log of this.topic(topic).partitions) {
      for (const record of log.records.slice()) await onRecord(record);
    }
  }

  async groupMembers(groupId: string): Promise<number> {
    return this.groups.get(groupId)?.members.length ?? 0;
  }

  async setGroupOffsets(groupId: string, topic: string, offsets: readonly PartitionOffset[]): Promise<void> {
    const group = this.group(groupId);
    for (const { partition, offset } of offsets) group.committed.set(tpKey(topic, partition), Number(offset));
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    return this.topic(topic).partitions.map((log, partition) => {
      const found = log.records.find((record) => record.timestamp >= timestamp);
      return { partition, offset: found ? found.offset : String(log.base + log.records.length) };
    });
  }

  async earliestOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.topic(topic).partitions.map((log, partition) => ({ partition, offset: String(log.base) }));
  }

  async latestOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.topic(topic).partitions.map((log, partition) => ({ partition, offset: String(log.base + log.records.length) }));
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const group = this.groups.get(groupId);
    const offsets: PartitionOffset[] = [];
    this.topic(topic).partitions.forEach((_, partition) => {
      const offset = group?.committed.get(tpKey(topic, partition));
      if (offset !== undefined) offsets.push({ partition, offset: String(offset) });
    });
    return offsets;
  }

  async close(): Promise<void> {
    for (const group of this.groups.values()) {
      for (const member of group.members.slice()) await member.stop();
    }
  }

  // ---- what a test sees ----

  /** The records of a topic's partition (or of every partition, in partition then offset order). */
  records(topic: string, partition?: number): ConsumedRecord[] {
    const logs = this.topic(topic).partitions;
    if (partition !== undefined) return logs[partition]!.records.slice();
    return logs.flatMap((log) => log.records);
  }

  topicSpec(topic: string): TopicSpec | undefined {
    return this.topics.get(topic)?.spec;
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  /** Makes every send touching `topic` reject with `error` (undefined: succeed again). */
  failWrites(topic: string, error: Error | undefined): void {
    if (error) this.failing.set(topic, error);
    else this.failing.delete(topic);
  }

  // ---- used by MemoryConsumer ----

  log(topic: string, partition: number): PartitionLog {
    const log = this.topic(topic).partitions[partition];
    if (!log) throw new CdcError('INTERNAL', `topic ${topic} has no partition ${partition}`);
    return log;
  }

  committedAt(group: Group, topic: string, partition: number): number | undefined {
    return group.committed.get(tpKey(topic, partition));
  }

  commit(group: Group, topic: string, partition: number, offset: number): void {
    group.committed.set(tpKey(topic, partition), offset);
    if (this.dropConsumed && !this.topic(topic).spec.compacted) this.dropBelowCommitted(topic, partition);
  }

  async leave(group: Group, consumer: MemoryConsumer): Promise<void> {
    group.members = group.members.filter((member) => member !== consumer);
    await this.rebalance(group);
  }

  private append(record: OutgoingRecord): void {
    const log = this.log(record.topic, record.partition);
    log.records.push({
      topic: record.topic,
      partition: record.partition,
      offset: String(log.base + log.records.length),
      key: record.key,
      value: record.value,
      headers: record.headers ?? {},
      timestamp: this.now(),
    });
    for (const wake of log.wakers) wake();
  }

  private isConsumed(topic: string, partition: number): boolean {
    const key = tpKey(topic, partition);
    return this.dropConsumed && !this.topic(topic).spec.compacted && [...this.groups.values()].some((group) => group.committed.has(key));
  }

  private dropBelowCommitted(topic: string, partition: number): void {
    let lowest = Infinity;
    for (const group of this.groups.values()) {
      const offset = group.committed.get(tpKey(topic, partition));
      if (offset !== undefined) lowest = Math.min(lowest, offset);
    }
    const log = this.log(topic, partition);
    const drop = lowest - log.base;
    if (drop > 0) {
      log.records.splice(0, drop);
      log.base = lowest;
      const waiters = log.roomWaiters.splice(0);
      for (const wake of waiters) wake();
    }
  }

  /** Eager rebalance, as Kafka's classic protocol: every member gives its partitions up before any is handed out. */
  private rebalance(group: Group): Promise<void> {
    group.rebalanced = group.rebalanced.then(async () => {
      for (const member of group.members) await member.revokeAll();
      const all: TopicPartition[] = [];
      for (const topic of new Set(group.members.flatMap((member) => member.topics))) {
        this.topic(topic).partitions.forEach((_, partition) => all.push({ topic, partition }));
      }
      const members = group.members;
      await Promise.all(members.map((member, i) => member.assign(all.filter((_, n) => n % members.length === i))));
    });
    return group.rebalanced;
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) throw new CdcError('CONFIG_INVALID', `topic ${name} does not exist (topics are created on start, never on first use)`);
    return topic;
  }

  private group(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = { committed: new Map(), members: [], rebalanced: Promise.resolve() };
      this.groups.set(groupId, group);
    }
    return group;
  }
}

interface Worker {
  tp: TopicPartition;
  stopped: boolean;
  /** Aborted as the worker stops: its batch in progress stops retrying and is left uncommitted. */
  owned: AbortController;
  paused: boolean;
  wake: () => void;
  running: Promise<void>;
}

class MemoryConsumer implements Consumer {
  readonly done: Promise<void>;
  private settle!: (error?: unknown) => void;
  private workers: Worker[] = [];
  private readonly pausedKeys = new Set<string>();
  private stopped = false;

  constructor(
    private readonly transport: MemoryTransport,
    private readonly group: Group,
    private readonly options: ConsumerOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  get topics(): readonly string[] {
    return this.options.topics;
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    if (this.stopped) return;
    await this.options.onAssignment?.(partitions);
    this.workers = partitions.map((tp) => this.startWorker(tp));
  }

  async revokeAll(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    for (const worker of workers) {
      worker.stopped = true;
      worker.owned.abort();
      worker.wake();
    }
    await Promise.all(workers.map((worker) => worker.running));
    await this.options.onRevocation?.();
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.setPaused(partitions, true);
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.setPaused(partitions, false);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.revokeAll();
    await this.transport.leave(this.group, this);
    this.settle();
  }

  private setPaused(partitions: readonly TopicPartition[], paused: boolean): void {
    for (const { topic, partition } of partitions) {
      if (paused) this.pausedKeys.add(tpKey(topic, partition));
      else this.pausedKeys.delete(tpKey(topic, partition));
    }
    for (const worker of this.workers) {
      worker.paused = this.pausedKeys.has(tpKey(worker.tp.topic, worker.tp.partition));
      worker.wake();
    }
  }

  private startWorker(tp: TopicPartition): Worker {
    const worker: Worker = { tp, stopped: false, owned: new AbortController(), paused: this.pausedKeys.has(tpKey(tp.topic, tp.partition)), wake: () => {}, running: Promise.resolve() };
    worker.running = this.work(worker).catch((error: unknown) => this.fail(error));
    return worker;
  }

  private async work(worker: Worker): Promise<void> {
    const { topic, partition } = worker.tp;
    const log = this.transport.log(topic, partition);
    let position = this.transport.committedAt(this.group, topic, partition) ?? (this.options.fromBeginning ? log.base : log.base + log.records.length);
    while (!worker.stopped) {
      position = Math.max(position, log.base);
      const end = log.base + log.records.length;
      if (worker.paused || position >= end) {
        await new Promise<void>((resolve) => {
          worker.wake = resolve;
          log.wakers.add(resolve);
        });
        log.wakers.delete(worker.wake);
        continue;
      }
      const from = position - log.base;
      const records = log.records.slice(from, from + this.transport.maxBatch);
      try {
        await this.options.eachBatch({ topic, partition, records, signal: worker.owned.signal });
      } catch (error) {
        // Given up with the partition: its next owner reads the batch again from the committed offset.
        if (worker.owned.signal.aborted) return;
        throw error;
      }
      position += records.length;
      this.transport.commit(this.group, topic, partition, position);
    }
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const worker of this.workers) {
      worker.stopped = true;
      worker.owned.abort();
      worker.wake();
    }
    void this.transport.leave(this.group, this).finally(() => this.settle(error));
  }
}
