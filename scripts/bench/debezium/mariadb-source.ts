/** The Debezium MariaDB source connector's config for one benchmark database, on the stack's MariaDB. */
import type { StackEnv } from '../../stack/env.ts';

export interface MariaDbSourceOptions {
  /** Names the topics: `<prefix>.<db>.<table>`, `<prefix>.schema-history`. */
  prefix: string;
  db: string;
  snapshotMode: 'initial' | 'no_data';
  /** Partitions of the change topics Connect creates (Debezium keys records by primary key). */
  partitions?: number;
}

/** The change topic Debezium writes a table's events to. */
export const changeTopic = (prefix: string, db: string, table: string) => `${prefix}.${db}.${table}`;

/** Debezium's own heartbeat topic for `prefix`: heartbeats give an idle connector an offset to store. */
export const heartbeatTopic = (prefix: string) => `__debezium-heartbeat.${prefix}`;

export function mariaDbSourceConfig(env: StackEnv, { prefix, db, snapshotMode, partitions = 1 }: MariaDbSourceOptions): Record<string, string> {
  const url = new URL(env.MYSQL_URL);
  return {
    'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
    'tasks.max': '1',
    'database.hostname': url.hostname,
    'database.port': url.port || '3306',
    'database.user': decodeURIComponent(url.username),
    'database.password': decodeURIComponent(url.password),
    'database.ssl.mode': 'disable',
    // Unique per run: two binlog clients with one server id would disconnect each other.
    'database.server.id': String(200_000 + Math.floor(Math.random() * 1_000_000_000)),
    'topic.prefix': prefix,
    'database.include.list': db,
    'include.schema.changes': 'false',
    'snapshot.mode': snapshotMode,
    'schema.history.internal.kafka.bootstrap.servers': env.KAFKA_BROKERS,
    'schema.history.internal.kafka.topic': `${prefix}.schema-history`,
    'heartbeat.interval.ms': '500',
    // The stack's broker does not create topics on first use: Connect creates the change topics.
    'topic.creation.default.replication.factor': '1',
    'topic.creation.default.partitions': String(partitions),
  };
}
