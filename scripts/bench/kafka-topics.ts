/** What the Debezium scenarios read off the stack's Kafka and registry: record counts, and cleanup. */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { Kafka, logLevel } from '../../topology/transports/kafka/kafkajs.ts';
import { bigintLong } from '../../serdes/avro-codecs.ts';
import type { StackEnv } from '../stack/env.ts';

/** Rethrows a KafkaJS deleteGroups error unless every group it names was simply not found. */
function ignoreGroupsNotFound(error: unknown): void {
  const groups = (error as { groups?: Array<{ error?: { type?: string } }> }).groups;
  if (!groups?.every((group) => group.error === undefined || group.error?.type === 'GROUP_ID_NOT_FOUND')) throw error;
}

export class BenchTopics {
  private constructor(private readonly kafka: Kafka, private readonly admin: Admin, private readonly registryUrl: string) {}

  static async connect(env: StackEnv): Promise<BenchTopics> {
    const kafka = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'bench-admin', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    return new BenchTopics(kafka, admin, env.SCHEMA_REGISTRY_URL);
  }

  /**
   * Decodes the topic's first record value as Confluent-framed Avro through the registry's ccompat API, as
   * our consumers decode, and throws if it cannot: Debezium's records went through the same registry in the
   * same format as ours.
   */
  async assertConfluentAvro(topic: string): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: `${topic}-check` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const value = await new Promise<Buffer>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!) });
      });
      // Debezium's longs (microsecond timestamps, binlog positions) pass 2^53: read them as bigints.
      const registry = new SchemaRegistry({ host: this.registryUrl }, { [SchemaType.AVRO]: { registry: { long: bigintLong } } });
      await registry.decode(value);
    } finally {
      await consumer.disconnect();
      await this.admin.deleteGroups([`${topic}-check`]).catch(() => undefined);
    }
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  }

  /** Records in the topic (sum of its partitions' end offsets), 0 until it exists. */
  async records(topic: string): Promise<number> {
    if (!(await this.admin.listTopics()).includes(topic)) return 0;
    try {
      return (await this.admin.fetchTopicOffsets(topic)).reduce((sum, { high }) => sum + Number(high), 0);
    } catch (error) {
      // Just after Connect created the topic its partitions may have no leader yet: no records so far.
      if ((error as { retriable?: boolean }).retriable) return 0;
      throw error;
    }
  }

  /** Deletes the topics, consumer groups and registry subjects whose names start with `prefix`: runs leave nothing behind. */
  async deleteAll(prefix: string): Promise<void> {
    const topics = (await this.admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await this.admin.deleteTopics({ topics });
    const groups = (await this.admin.listGroups()).groups.map(({ groupId }) => groupId).filter((group) => group.startsWith(prefix));
    // A group the coordinator already dropped (no members, no offsets) is gone: that is the aim.
    if (groups.length > 0) await this.admin.deleteGroups(groups).catch(ignoreGroupsNotFound);
    const subjects = (await (await fetch(`${this.registryUrl}/subjects`)).json()) as string[];
    for (const subject of subjects.filter((name) => name.startsWith(prefix))) {
      await fetch(`${this.registryUrl}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' });
      await fetch(`${this.registryUrl}/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: 'DELETE' });
    }
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }
}
