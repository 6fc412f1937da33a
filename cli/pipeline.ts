import { createHash } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { MongoSink } from '../connectors/mongodb/sink.ts';
import { MongoSource } from '../connectors/mongodb/source.ts';
import { MySqlSink } from '../connectors/mysql/sink.ts';
import { MySqlSource } from '../connectors/mysql/source.ts';
import { PostgresSink } from '../connectors/postgres/sink.ts';
import { AvroEventSerde } from '../serdes/avro-serde.ts';
import { ConfluentSchemaRegistry } from '../serdes/registry.ts';
import { recordNameStrategy, topicNameStrategy, topicRecordNameStrategy } from '../serdes/subject-name.ts';
import type { SinkConnector } from '../topology/sink.ts';
import type { ChangeEvent } from '../topology/change-event.ts';
import type { SourceConnector } from '../topology/source.ts';
import { TopologyBuilder, type Topology } from '../topology/topology.ts';
import { KafkaTransport } from '../topology/transports/kafka.ts';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { TableFilter } from '../connectors/mysql/table-filter.ts';
import type { Logger } from '../topology/log.ts';
import type { PipelineMetrics } from '../topology/metrics.ts';
import { filter } from 'rxjs';
import type { PipelineConfig, SinkConfig, SourceConfig } from './config-schema.ts';
import type { LoadedOperator } from './operators.ts';

export interface Pipeline {
  topology: Topology;
  transport: KafkaTransport;
  /** The serde the topology writes and reads with: the console decodes dead letters with it. */
  serde: AvroEventSerde;
}

const SUBJECT_NAME_STRATEGIES = { topic: topicNameStrategy, record: recordNameStrategy, 'topic-record': topicRecordNameStrategy };

/**
 * A validated config (and its operators, loaded by loadOperators) → the topology and its Kafka transport.
 * Nothing connects here: connectors and clients connect when the topology starts, so `describe` works with
 * no server up.
 */
export function buildPipeline(config: PipelineConfig, options: { log?: Logger; metrics?: PipelineMetrics; operators?: readonly LoadedOperator[] } = {}): Pipeline {
  const { log, metrics, operators = [] } = options;
  const registry = new SchemaRegistry({
    host: config.schemaRegistry.url,
    ...(config.schemaRegistry.username ? { auth: { username: config.schemaRegistry.username, password: config.schemaRegistry.password ?? '' } } : {}),
  });
  const serde = new AvroEventSerde({
    registry: new ConfluentSchemaRegistry(registry),
    prefix: config.pipeline,
    subjectNameStrategy: SUBJECT_NAME_STRATEGIES[config.schemaRegistry.subjectNameStrategy],
  });
  const builder = new TopologyBuilder({ pipeline: config.pipeline, serde, exactlyOnce: config.kafka.transactions, ...(log ? { log } : {}) });
  for (const source of config.sources) {
    const spread = source.type === 'mysql' && source.spreadSnapshot ? { spread: { parallelism: source.parallelism } } : {};
    builder.source(sourceConnector(config.pipeline, source, log), { snapshot: source.snapshot, chunkSize: source.chunkSize, ...spread });
  }
  const place = (stage: LoadedOperator['stage']) => {
    for (const op of operators.filter((o) => o.stage === stage)) builder.through(op.name, op.operator, { topics: op.topics, onError: op.onError ?? 'stop' });
  };
  place('source');
  const repartition = repartitionOf(config);
  if (repartition !== undefined) builder.repartition(repartition);
  place('repartition');
  for (const sink of config.sinks) builder.sink(sinkConnector(sink, log), { maxBatchRows: sink.maxBatchRows, maxBatchBytes: sink.maxBatchBytes }, ...sinkTableFilter(sink));

  const transport = new KafkaTransport({
    ...kafkaClientOptions(config),
    replicationFactor: config.kafka.replicationFactor,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    ...(log ? { logger: log } : {}),
    ...(metrics ? { onRetried: (reason: string) => metrics.kafkaRetried(reason) } : {}),
  });
  return { topology: builder.build(), transport, serde };
}

/**
 * The repartition stage a config asks for: as given, else 8 partitions when it has sinks (they read the
 * repartition topic); a config without either only captures into the change topics.
 */
export function repartitionOf(config: PipelineConfig): { partitions: number } | undefined {
  if (config.repartition !== undefined) return config.repartition;
  return config.sinks.length > 0 ? { partitions: 8 } : undefined;
}

/** Brokers, client id, TLS and SASL as KafkaJS takes them: for the transport and the reachability check alike. */
export function kafkaClientOptions(config: PipelineConfig): Pick<KafkaConfig, 'clientId' | 'ssl' | 'sasl'> & { brokers: string[] } {
  const { ssl, sasl } = config.kafka;
  return {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    ssl: typeof ssl === 'boolean' ? ssl : { ...ssl },
    ...(sasl ? { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions } : {}),
  };
}

function sourceConnector(pipeline: string, source: SourceConfig, log?: Logger): SourceConnector {
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
      heartbeatIntervalMs: source.heartbeat,
      ...(log ? { warn: (message: string) => log.warn({ source: source.name }, message) } : {}),
    });
  }
  const { type: _type, snapshot: _snapshot, spreadSnapshot: _spread, heartbeat, ...connectorConfig } = source;
  return new MongoSource({ ...connectorConfig, heartbeatIntervalMs: heartbeat });
}

/** A sink's include/exclude globs, as an operator in front of it (none when it takes every table). */
function sinkTableFilter(sink: SinkConfig) {
  const everything = sink.exclude.length === 0 && sink.include.includes('*.*');
  if (everything) return [];
  const tables = new TableFilter(sink.include, sink.exclude);
  return [{ name: `tables ${sink.include.join(',')}${sink.exclude.length ? ` except ${sink.exclude.join(',')}` : ''}`, operator: filter((event: ChangeEvent) => tables.captures(event.source.db, event.source.table)) }];
}

function sinkConnector(sink: SinkConfig, log: Logger | undefined): SinkConnector {
  const logged = log ? { log } : {};
  switch (sink.type) {
    case 'mysql':
      return new MySqlSink({ name: sink.name, url: sink.url, tableMap: sink.tables, manageTables: sink.createTables, tombstones: sink.tombstones, ...logged });
    case 'postgres':
      return new PostgresSink({ name: sink.name, url: sink.url, schema: sink.schema, tableMap: sink.tables, manageTables: sink.createTables, tombstones: sink.tombstones, ...logged });
    case 'mongodb':
      return new MongoSink({ name: sink.name, url: sink.url, database: sink.database, collectionMap: sink.tables, tombstones: sink.tombstones });
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
