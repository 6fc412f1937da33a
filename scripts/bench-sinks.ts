/**
 * Rows/s applied by the MariaDB, PostgreSQL and MongoDB sinks, for N mixed change events (inserts,
 * updates, deletes) hashed by key into 1 and 8 partitions, one concurrent worker per partition,
 * batches of BATCH records per transaction. Uses the stack's servers (.stack/env); each run works in a
 * scratch database/schema that it drops after.
 *
 *   node --import tsx scripts/bench-sinks.ts [events=100000] [batch=500]
 */
import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { createMySqlSink } from '../connectors/mysql/sink.ts';
import { createPostgresSink } from '../connectors/postgres/sink.ts';
import { MongoSink } from '../connectors/mongodb/sink.ts';
import type { ChangeEvent, Row, TableSchema } from '../topology/change-event.ts';
import { CdcError } from '../topology/errors.ts';
import type { SinkConnector, SinkRecord } from '../topology/sink.ts';
import { stackEnv } from '../test/support/stack-env.ts';

const EVENTS = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 500);

const schema: TableSchema = {
  db: 'bench',
  table: 'rows',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'name', type: 'varchar', length: 32, nullable: false },
    { name: 'n', type: 'int', nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

/** A valid stream: 50% inserts of new keys, 35% updates and 15% deletes of live keys. */
function events(count: number): ChangeEvent[] {
  const live: bigint[] = [];
  const rows = new Map<bigint, Row>();
  let nextId = 1n;
  const out: ChangeEvent[] = [];
  for (let i = 0; i < count; i++) {
    const roll = Math.random();
    const position = String(i).padStart(12, '0');
    const source = { connector: 'mysql' as const, name: 'bench', db: 'bench', table: 'rows', position, tsMs: 0, snapshot: false };
    if (roll < 0.5 || live.length === 0) {
      const id = nextId++;
      const after = { id, name: `name-${id}`, n: i };
      live.push(id);
      rows.set(id, after);
      out.push({ op: 'c', key: { id }, before: null, after, source, tsMs: 0, schema });
    } else {
      const index = Math.floor(Math.random() * live.length);
      const id = live[index]!;
      const before = rows.get(id)!;
      if (roll < 0.85) {
        const after = { ...before, n: i };
        rows.set(id, after);
        out.push({ op: 'u', key: { id }, before, after, source, tsMs: 0, schema });
      } else {
        live[index] = live[live.length - 1]!;
        live.pop();
        rows.delete(id);
        out.push({ op: 'd', key: { id }, before, after: null, source, tsMs: 0, schema });
      }
    }
  }
  return out;
}

function partitions(all: readonly ChangeEvent[], count: number): SinkRecord[][] {
  const out: SinkRecord[][] = Array.from({ length: count }, () => []);
  for (const event of all) {
    const p = createHash('md5').update(`bench.rows:${String(event.key.id)}`).digest().readUInt32BE(0) % count;
    out[p]!.push({ event, topic: 'bench', partition: p, offset: String(out[p]!.length) });
  }
  return out;
}

/** One worker per partition, batch after batch; a retriable error retries the same batch. */
async function run(sink: SinkConnector, parts: SinkRecord[][]): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    parts.map(async (records) => {
      for (let i = 0; i < records.length; i += BATCH) {
        const batch = records.slice(i, i + BATCH);
        for (;;) {
          try {
            const { rejected } = await sink.apply(batch);
            if (rejected.length > 0) throw new Error(`rejected: ${rejected[0]!.reason}`);
            break;
          } catch (error) {
            if (!(error instanceof CdcError && error.retriable)) throw error;
          }
        }
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const env = stackEnv();
const all = events(EVENTS);
const suffix = randomBytes(4).toString('hex');

async function bench(system: string, make: (name: string) => Promise<{ sink: SinkConnector; drop: () => Promise<void> }>): Promise<void> {
  for (const count of [1, 8]) {
    const { sink, drop } = await make(`cdc_bench_${count}_${suffix}`);
    try {
      await sink.start();
      const seconds = await run(sink, partitions(all, count));
      console.log(`${system.padEnd(10)} partitions=${count}  ${EVENTS} events in ${seconds.toFixed(2)} s  ${Math.round(EVENTS / seconds)} rows/s`);
    } finally {
      await sink.close();
      await drop();
    }
  }
}

console.log(`${EVENTS} events (50% c, 35% u, 15% d), batches of ${BATCH}`);

await bench('MariaDB', async (name) => {
  const admin = await mysql.createConnection(env.MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${name}\``);
  const url = new URL(env.MYSQL_URL);
  url.pathname = `/${name}`;
  return {
    sink: createMySqlSink({ name: 'bench', url: url.toString(), manageTables: true, connections: 8 }),
    drop: async () => {
      await admin.query(`DROP DATABASE \`${name}\``);
      await admin.end();
    },
  };
});

await bench('PostgreSQL', async (name) => {
  const admin = new pg.Client({ connectionString: env.PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${name}"`);
  return {
    sink: createPostgresSink({ name: 'bench', url: env.PG_URL, schema: name, manageTables: true, connections: 8 }),
    drop: async () => {
      await admin.query(`DROP SCHEMA "${name}" CASCADE`);
      await admin.end();
    },
  };
});

await bench('MongoDB', async (name) => ({
  sink: new MongoSink({ name: 'bench', url: env.MONGODB_URL, database: name }),
  drop: async () => {
    const client = new MongoClient(env.MONGODB_URL);
    await client.db(name).dropDatabase();
    await client.close();
  },
}));
