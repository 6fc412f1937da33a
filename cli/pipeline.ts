import { createHash } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { MongoSink } from '../connectors/mongodb/sink.ts';
import { MongoSource } from '../connectors/mongodb/source.ts';
import { createMySqlSink } from '../connectors/mysql/sink.ts';
import { MySqlSource } from '../connectors/mysql/source.ts';
import { createPostgresSink } from '../connectors/postgres/sink.ts';
import { AvroEventSerde } from '../serdes/avro-serde.ts';
import { ConfluentSchemaRegistry } from '../serdes/registry.ts';
import { recordNameStrategy, topicNameStrategy, topicRecordNameStrategy } from '../serdes/subject-name.ts';
import type { SinkConnector } from '../topology/sink.ts';
import type { SourceConnector } from '../topology/source.ts';
import { TopologyBuilder, type Topology } from '../topology/topology.ts';
import { KafkaTransport, type KafkaLogger } from '../topology/transports/kafka.ts';
import type { PipelineConfig, SinkConfig, SourceConfig } from './config-schema.ts';

export interface Pipeline {
  topology: Topology;
  transport: KafkaTransport;
}

const SUBJECT_NAME_STRATEGIES = { topic: topicNameStrategy, record: recordNameStrategy, 'topic-record': topicRecordNameStrategy };

/**
 * A validated config → the topology and its Kafka transport. Nothing connects here: connectors and
 * clients connect when the topology starts, so `describe` works with no server up.
 */
export function buildPipeline(config: PipelineConfig, options: { kafkaLogger?: KafkaLogger; warn?: (message: string) => void } = {}): Pipeline {
  const registry = new SchemaRegistry({
    host: config.schemaRegistry.url,
    ...(config.schemaRegistry.username ? { auth: { username: config.schemaRegistry.username, password: config.schemaRegistry.password ?? '' } } : {}),
  });
  const serde = new AvroEventSerde({
    registry: new ConfluentSchemaRegistry(registry),
    prefix: config.pipeline,
    subjectNameStrategy: SUBJECT_NAME_STRATEGIES[config.schemaRegistry.subjectNameStrategy],
  });
  const builder = new TopologyBuilder({ pipeline: config.pipeline, serde, exactlyOnce: config.kafka.transactions });
  for (const source of config.sources) builder.source(sourceConnector(config.pipeline, source, options.warn), { snapshot: source.snapshot });
  builder.repartition({ partitions: config.repartition.partitions });
  for (const sink of config.sinks) builder.sink(sinkConnector(sink));

  const { ssl, sasl } = config.kafka;
  const transport = new KafkaTransport({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    ssl: typeof ssl === 'boolean' ? ssl : { ...ssl },
    ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as never } : {}),
    replicationFactor: config.kafka.replicationFactor,
    ...(options.kafkaLogger ? { logger: options.kafkaLogger } : {}),
  });
  return { topology: builder.build(), transport };
}

function sourceConnector(pipeline: string, source: SourceConfig, warn?: (message: string) => void): SourceConnector {
  if (source.type === 'mysql') {
    return new MySqlSource({
      name: source.name,
      url: source.url,
      serverId: source.serverId ?? defaultServerId(pipeline, source.name),
      include: source.include,
      exclude: source.exclude,
      chunkSize: source.chunkSize,
      parallelism: source.parallelism,
      keys: source.keys,
      ...(warn ? { warn } : {}),
    });
  }
  const { type: _type, snapshot: _snapshot, ...connectorConfig } = source;
  return new MongoSource(connectorConfig);
}

function sinkConnector(sink: SinkConfig): SinkConnector {
  switch (sink.type) {
    case 'mysql':
      return createMySqlSink({ name: sink.name, url: sink.url, tableMap: sink.tables, manageTables: sink.createTables });
    case 'postgres':
      return createPostgresSink({ name: sink.name, url: sink.url, schema: sink.schema, tableMap: sink.tables, manageTables: sink.createTables });
    case 'mongodb':
      return new MongoSink({ name: sink.name, url: sink.url, database: sink.database, collectionMap: sink.tables });
  }
}

/**
 * A replica server id that stays the same across restarts of one source (so the server sees one
 * replica, not a new one each time) and rarely collides with another pipeline's: a hash into
 * 1e6..2^32-1, above the small ids people give real replicas.
 */
export function defaultServerId(pipeline: string, source: string): number {
  const hash = createHash('sha256').update(`${pipeline}/${source}`).digest().readUInt32BE(0);
  return 1_000_000 + (hash % (2 ** 32 - 1 - 1_000_000));
}
