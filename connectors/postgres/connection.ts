import type pg from 'pg';
import type { SqlConnection } from '../sql/dialect.ts';

/**
 * A pooled pg client as the SQL sink's (and verify's) connection. In a module of its own so that the
 * sink's declarations, which the package ships, need no pg types.
 */
export function sqlConnection(client: pg.PoolClient): SqlConnection {
  return {
    async query(sql, params = []) {
      return (await client.query(sql, params as unknown[])).rows as Record<string, unknown>[];
    },
    async execute(sql, params = []) {
      return (await client.query(sql, params as unknown[])).rowCount ?? 0;
    },
    release: (broken) => client.release(broken),
  };
}
