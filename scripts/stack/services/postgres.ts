import pg from 'pg';
import type { Service } from '../service.ts';

/** The machine's own PostgreSQL: the stack only checks that it answers. */
export const postgres: Service = {
  name: 'postgres',
  envName: 'PG_URL',
  endpoint: 'postgresql://postgres@127.0.0.1:5432/test',
  ports: [5432],
  managed: false,
  startTimeoutMs: 0,
  notReadyHint:
    'PostgreSQL does not answer at 127.0.0.1:5432: start it (pg_ctlcluster --skip-systemctl-redirect <version> main start) or export PG_URL',

  async prepare() {},
  start() {},

  async ready() {
    const client = new pg.Client({ connectionString: process.env.PG_URL ?? postgres.endpoint, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};
