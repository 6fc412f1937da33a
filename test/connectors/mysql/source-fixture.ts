import { randomUUID } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';
import { firstValueFrom, takeWhile, toArray, type Observable } from 'rxjs';
import { MySqlSource, type MySqlSourceConfig } from '../../../connectors/mysql/source.ts';
import { connectionOptions } from '../../../connectors/mysql/connection.ts';
import type { StreamItem } from '../../../topology/source.ts';
import { stackEnv } from '../../support/stack-env.ts';

export interface SourceDatabase {
  db: string;
  url: string;
  /** An admin connection (all privileges) with the same decoding options as the source. */
  admin: Connection;
  /**
   * A source capturing this database's tables; closed after the test. No heartbeats unless asked: the tests
   * read its stream item by item, and other tests' transactions on the shared server would add commits.
   */
  source(config?: Partial<MySqlSourceConfig>): MySqlSource;
}

/** Runs `body` with a fresh database on the stack MariaDB, dropped afterwards. */
export async function withSourceDatabase(body: (database: SourceDatabase) => Promise<void>): Promise<void> {
  const url = stackEnv().MYSQL_URL;
  const db = `src_${randomUUID().slice(0, 8)}`;
  const admin = await mysql.createConnection(connectionOptions(url));
  const sources: MySqlSource[] = [];
  await admin.query('CREATE DATABASE ?? CHARACTER SET utf8mb4', [db]);
  try {
    await body({
      db,
      url,
      admin,
      source: (config = {}) => {
        const source = new MySqlSource({ name: 'test', url, serverId: randomServerId(), include: [`${db}.*`], heartbeatIntervalMs: 0, warn: () => {}, ...config });
        sources.push(source);
        return source;
      },
    });
  } finally {
    await Promise.all(sources.map((source) => source.close()));
    await admin.query('DROP DATABASE ??', [db]);
    await admin.end();
  }
}

/** Other engineers' tests read the same binlog: each reader needs its own replica id. */
export function randomServerId(): number {
  return 100_000 + Math.floor(Math.random() * 1_000_000_000);
}

/** Stream items up to and including the first one `last` accepts. */
export function itemsUntil(stream: Observable<StreamItem>, last: (item: StreamItem) => boolean): Promise<StreamItem[]> {
  return firstValueFrom(stream.pipe(takeWhile((item) => !last(item), true), toArray()));
}

export function changes(items: readonly StreamItem[]) {
  return items.flatMap((item) => (item.kind === 'change' ? [item.event] : []));
}
