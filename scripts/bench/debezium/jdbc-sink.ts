/** The Debezium JDBC sink connector's config: one topic's change events applied to a MariaDB database. */
import type { StackEnv } from '../../stack/env.ts';

export function jdbcSinkConfig(env: StackEnv, { topic, db, tasks }: { topic: string; db: string; tasks: number }): Record<string, string> {
  const url = new URL(env.MYSQL_URL);
  return {
    'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
    'tasks.max': String(tasks),
    topics: topic,
    'connection.url': `jdbc:mariadb://${url.hostname}:${url.port || '3306'}/${db}`,
    'connection.username': decodeURIComponent(url.username),
    'connection.password': decodeURIComponent(url.password),
    // Idempotent apply, as ours: upsert by the record key, deletes applied, the table created from the schema.
    'insert.mode': 'upsert',
    'delete.enabled': 'true',
    'primary.key.mode': 'record_key',
    'schema.evolution': 'basic',
    'collection.name.format': '${source.table}',
    'use.time.zone': 'UTC',
  };
}
