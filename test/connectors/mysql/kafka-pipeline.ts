/**
 * A MySqlSource in a topology on the local Kafka with the Avro serde and the real schema registry, and
 * readers that look at its topics with a KafkaJS client of their own rather than through the transport
 * under test.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { SourceConnector } from '../../../topology/source.ts';
import type { SnapshotMode } from '../../../topology/source-runner.ts';
import type { SourceToken } from '../../../topology/token.ts';
import { TokenFold } from '../../../topology/token-store.ts';
import { topics } from '../../../topology/topics.ts';
import { TopologyBuilder, type RunningTopology } from '../../../topology/topology.ts';
import type { ConsumedRecord } from '../../../topology/transport.ts';
import { readToEnd } from '../../../topology/transports/kafka/read-to-end.ts';
import { withRetry } from '../../../topology/retry.ts';
import { plainEvent } from '../../serdes/plain.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { brokers, deletePipelineTopics, kafkaTransport, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde } from '../support/repartition-topic.ts';

export interface KafkaPipeline {
  /** The pipeline id: unique to this test. */
  id: string;
  /** Starts source → change topic → repartition (1 partition); stopped after the test. */
  start(source: SourceConnector, options?: { exactlyOnce?: boolean; snapshot?: SnapshotMode }): Promise<RunningTopology>;
  /** The committed records of one of the pipeline's topics, read from its start to its current end; none before it exists. */
  read(topic: string): Promise<ConsumedRecord[]>;
  /** The source's change events, decoded by a serde that knows nothing but the registry. */
  changes(source: string): Promise<ChangeEvent[]>;
  /** The events on the repartition topic (1 partition), decoded the same way: changes and snapshot-end markers. */
  repartitioned(): Promise<ChangeEvent[]>;
  /** The pipeline's tokens in topic order. */
  tokens(): Promise<Array<SourceToken & { record: ConsumedRecord }>>;
  /** Waits until `check` holds; fails at once if a started topology stops with an error. */
  until(what: string, check: () => Promise<boolean>): Promise<void>;
  /** Waits until the latest token satisfies `check` (the source has streamed or snapshotted that far). */
  untilToken(what: string, check: (token: SourceToken) => boolean): Promise<SourceToken>;
}

/** Runs `body` with a fresh pipeline id; its topologies are stopped and its topics deleted afterwards. */
export async function withKafkaPipeline(name: string, body: (pipeline: KafkaPipeline) => Promise<void>): Promise<void> {
  const id = uniquePipeline(name);
  // Silent: a read retries what KafkaJS would log as an error (a new topic's leader not known yet).
  const reader = new Kafka({ brokers, clientId: 'it-reader', logLevel: logLevel.NOTHING });
  const admin = reader.admin();
  await admin.connect();
  const cleanups: Array<() => Promise<void>> = [];
  const read = async (topic: string) => {
    const records: ConsumedRecord[] = [];
    // A pipeline in another process creates its topics when it starts.
    if (!(await admin.listTopics()).includes(topic)) return records;
    // A topic created a moment ago may have no leader yet (a retriable error).
    await withRetry(`read ${topic}`, async () => {
      records.length = 0;
      await readToEnd(reader, admin, topic, (record) => records.push(record), 100);
    });
    return records;
  };
  let fail!: (error: unknown) => void;
  let hasFailed = false;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => (hasFailed = true));
  // A failed topology ends the wait at once, and the poll behind it too: one polling on would open the
  // reader again after the cleanup closed it, and that connection would keep the test file from exiting.
  const until = (what: string, check: () => Promise<boolean>) =>
    Promise.race([
      eventually(what, async () => {
        if (hasFailed) throw new Error(`the topology failed while waiting for: ${what}`);
        return check();
      }, 90_000),
      failed,
    ]);
  const tokens = async () => {
    const fold = new TokenFold();
    return (await read(topics.tokens(id))).flatMap((record) => {
      const token = fold.add(record.key, record.value);
      return token === undefined ? [] : [{ ...token, record }];
    });
  };
  try {
    await body({
      id,
      start: async (source, options = {}) => {
        const transport = kafkaTransport();
        const running = await new TopologyBuilder({ pipeline: id, serde: avroSerde(id), exactlyOnce: options.exactlyOnce ?? true })
          .source(source, { snapshot: options.snapshot ?? 'initial' })
          .repartition({ partitions: 1 })
          .build()
          .start(transport);
        running.done.catch((error: unknown) => fail(error));
        cleanups.push(async () => {
          await running.stop();
          await transport.close();
        });
        return running;
      },
      read,
      changes: async (source) => (await avroSerde(id).decode(await read(topics.change(id, source)))).map(plainEvent),
      repartitioned: async () => (await avroSerde(id).decode(await read(topics.repartition(id)))).map(plainEvent),
      tokens,
      until,
      untilToken: async (what, check) => {
        let found: SourceToken | undefined;
        await until(what, async () => {
          const latest = (await tokens()).at(-1);
          if (latest !== undefined && check(latest)) found = latest;
          return found !== undefined;
        });
        return found!;
      },
    });
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await admin.disconnect();
    await deletePipelineTopics(id);
  }
}
