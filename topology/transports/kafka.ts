// KafkaJS's values through kafka/kafkajs.ts, which installs its fast path first.
import { ConfigResourceTypes, Kafka, logLevel } from './kafka/kafkajs.ts';
import { reportKafkaJsFastPath } from './kafka/kafkajs-fast-path/index.ts';
import type { Admin, KafkaConfig, logCreator } from 'kafkajs';
import type { ConsumedRecord, Consumer, ConsumerOptions, PartitionOffset, Producer, ProducerOptions, TopicSpec, Transport } from '../transport.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { KafkaConsumer, type GroupTimings } from './kafka/consumer.ts';
import { expectedKafkaLog } from './kafka/expected-logs.ts';
import { kafkaProducer } from './kafka/producer.ts';
import { readToEnd } from './kafka/read-to-end.ts';
import { topicMetadata } from './kafka/topic-metadata.ts';
import { topicOffsets } from './kafka/topic-offsets.ts';

export { kafkaJsFastPath, type KafkaJsFastPathStatus } from './kafka/kafkajs-fast-path/index.ts';

export type KafkaLogLevelName = 'error' | 'warn' | 'info' | 'debug';

/** Options of `new KafkaTransport(...)`: brokers, TLS and SASL as KafkaJS takes them, and the topology's settings. */
export interface KafkaTransportOptions {
  brokers: string[];
  clientId?: string;
  /** Passed to KafkaJS as they are. */
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  /** Of the topics the topology creates; the broker's default.replication.factor when absent. */
  replicationFactor?: number;
  /** Default 'warn': KafkaJS is chatty at info. */
  logLevel?: KafkaLogLevelName;
  /** Where KafkaJS logs go; its own console logger when absent. Also told, once, when the KafkaJS fast path is off. */
  logger?: Logger;
  /** With `logger`: called with the Kafka error of each failed request KafkaJS retries as a healthy cluster expects (kafka/expected-logs.ts). */
  onRetried?: (reason: string) => void;
  /** How long the group waits for a silent (killed) process before its partitions and sources move. Default 30 s. */
  sessionTimeoutMs?: number;
}

const LEVELS: Record<KafkaLogLevelName, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * The Transport on Kafka, through KafkaJS: idempotent producers with acks=all (transactional ones for
 * exactly-once sources), consumer groups with commits only after the handler (kafka/consumer.ts), topics
 * created explicitly (the broker must never create one on first use), and the admin operations replay needs.
 */
export class KafkaTransport implements Transport {
  private readonly kafka: Kafka;
  private readonly replicationFactor: number;
  private readonly timings: GroupTimings;
  private adminClient: Promise<Admin> | undefined;
  private readonly open = new Set<{ close(): Promise<void> }>();

  constructor(options: KafkaTransportOptions) {
    if (options.logger) reportKafkaJsFastPath(options.logger);
    this.kafka = new Kafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'rxcdc',
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
      logLevel: LEVELS[options.logLevel ?? 'warn'],
      ...(options.logger ? { logCreator: toLogCreator(options.logger, options.onRetried) } : {}),
    });
    // -1 asks the broker for its default.replication.factor.
    this.replicationFactor = options.replicationFactor ?? -1;
    this.timings = { sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000, fetchMaxWaitMs: 500 };
  }

  async listTopics(): Promise<string[]> {
    return (await this.admin()).listTopics();
  }

  async createTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin = await this.admin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length > 0) {
      // Another process of the pipeline may create them at the same moment: KafkaJS then returns false.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: this.replicationFactor,
          configEntries: spec.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    }
    // Checked after creating too: a concurrent creator may have used other settings.
    const topics = await topicMetadata(admin, specs.map((spec) => spec.name));
    const partitionsOf = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
    for (const spec of specs) {
      const partitions = partitionsOf.get(spec.name);
      if (partitions !== spec.partitions) {
        throw new ConfigError(
          `topic ${spec.name} has ${partitions} partitions, the topology needs ${spec.partitions}: ` +
            `change the topology's partition count, or delete the topic (and lose what it holds) so it is created again`,
        );
      }
    }
    await this.checkCompacted(admin, specs.filter((spec) => spec.compacted && existing.has(spec.name)));
  }

  async producer(options: ProducerOptions = {}): Promise<Producer> {
    return this.track(await kafkaProducer(this.kafka, options));
  }

  async consumer(options: ConsumerOptions): Promise<Consumer> {
    const topics = await topicMetadata(await this.admin(), options.topics);
    const ownable = topics.reduce((sum, topic) => sum + topic.partitions.length, 0);
    const consumer = await KafkaConsumer.start(this.kafka, options, ownable, this.timings);
    const tracked = { close: () => consumer.stop() };
    this.open.add(tracked);
    void consumer.done.catch(() => {}).finally(() => this.open.delete(tracked));
    return consumer;
  }

  async readToEnd(topic: string, onRecord: (record: ConsumedRecord) => unknown): Promise<void> {
    await readToEnd(this.kafka, await this.admin(), topic, onRecord, this.timings.fetchMaxWaitMs);
  }

  async groupMembers(groupId: string): Promise<number> {
    const { groups } = await (await this.admin()).describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  }

  async setGroupOffsets(groupId: string, topic: string, offsets: readonly PartitionOffset[]): Promise<void> {
    await (await this.admin()).setOffsets({ groupId, topic, partitions: offsets.map(({ partition, offset }) => ({ partition, offset })) });
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<PartitionOffset[]> {
    // KafkaJS already answers the high watermark for a partition with no record at or after `timestamp`.
    const offsets = await (await this.admin()).fetchTopicOffsetsByTimestamp(topic, timestamp);
    return byPartition(offsets.map(({ partition, offset }) => ({ partition, offset })));
  }

  async earliestOffsets(topic: string): Promise<PartitionOffset[]> {
    const offsets = await topicOffsets(await this.admin(), topic);
    return byPartition(offsets.map(({ partition, low }) => ({ partition, offset: low })));
  }

  async latestOffsets(topic: string): Promise<PartitionOffset[]> {
    const offsets = await topicOffsets(await this.admin(), topic);
    return byPartition(offsets.map(({ partition, high }) => ({ partition, offset: high })));
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const [committed] = await (await this.admin()).fetchOffsets({ groupId, topics: [topic] });
    // -1: the group never committed in that partition.
    return byPartition((committed?.partitions ?? []).filter(({ offset }) => offset !== '-1').map(({ partition, offset }) => ({ partition, offset })));
  }

  async close(): Promise<void> {
    for (const client of [...this.open]) await client.close();
    this.open.clear();
    const admin = this.adminClient;
    this.adminClient = undefined;
    if (admin) await (await admin).disconnect();
  }

  private async checkCompacted(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name, configNames: ['cleanup.policy'] })),
    });
    for (const resource of resources) {
      const policy = resource.configEntries.find((entry) => entry.configName === 'cleanup.policy')?.configValue ?? '';
      if (!policy.split(',').includes('compact')) {
        throw new ConfigError(`topic ${resource.resourceName} has cleanup.policy=${policy}, it must be compact (it keeps the latest token per source): change it with kafka-configs`);
      }
    }
  }

  private track(producer: Producer): Producer {
    const tracked = {
      send: producer.send,
      close: async () => {
        this.open.delete(tracked);
        await producer.close();
      },
    };
    this.open.add(tracked);
    return tracked;
  }

  private admin(): Promise<Admin> {
    return (this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })());
  }
}

function byPartition(offsets: PartitionOffset[]): PartitionOffset[] {
  return offsets.sort((a, b) => a.partition - b.partition);
}

/**
 * What a healthy cluster makes KafkaJS log and retry (kafka/expected-logs.ts) goes to debug, its retries
 * counted. Otherwise KafkaJS logs at ERROR what it goes on to handle: an error response on a connection (the
 * request's caller decides what it means) and a failed attempt it is about to retry (`retryCount`). Those are
 * warnings to an operator; what KafkaJS finally gives up on reaches the topology as an error and is
 * retried or reported there, once.
 */
function toLogCreator(logger: Logger, onRetried: (reason: string) => void = () => {}): logCreator {
  return () =>
    ({ namespace, level, log: { message, ...fields } }) => {
      const fieldsWithNamespace = { namespace, ...fields };
      const expected = expectedKafkaLog({ namespace, message, fields });
      const handledByKafkaJs = namespace === 'Connection' || 'retryCount' in fields;
      if (expected) {
        if (expected.retried) onRetried(expected.reason);
        logger.debug({ ...fieldsWithNamespace, reason: expected.reason }, message);
      } else if (level === logLevel.ERROR && !handledByKafkaJs) logger.error(fieldsWithNamespace, message);
      else if (level === logLevel.ERROR) logger.warn(fieldsWithNamespace, message);
      else if (level === logLevel.WARN) logger.warn(fieldsWithNamespace, message);
      else if (level === logLevel.INFO) logger.info(fieldsWithNamespace, message);
      else logger.debug(fieldsWithNamespace, message);
    };
}
