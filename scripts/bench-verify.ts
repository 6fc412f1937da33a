/**
 * Rows/s of `cdc verify` on a MariaDB → PostgreSQL table of ROWS rows: makes the table in a scratch
 * MariaDB database (INSERT ... SELECT from MariaDB's seq_1_to_N), copies it into a scratch PostgreSQL
 * schema with the PostgreSQL sink (the rows as the source's snapshot reads them, as `r` events), then
 * times `node bin/cdc.js verify` (the compiled dist/: run `npm run build` first) over it and drops both.
 *
 *   node --import tsx scripts/bench-verify.ts [rows=1000000] [chunkSize=10000]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { MySqlVerifySource } from '../connectors/mysql/verify-reader.ts';
import { readTable } from '../connectors/mysql/schema-reader.ts';
import { PostgresSink } from '../connectors/postgres/sink.ts';
import type { Row, Value } from '../topology/change-event.ts';
import type { SinkRecord } from '../topology/sink.ts';
import { scratchPostgres } from '../test/connectors/support/targets.ts';
import { writeConfig } from '../test/cli/support/cli.ts';
import { stackEnv } from './stack/env.ts';
import { ROOT } from './stack/paths.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const CHUNK = Number(process.argv[3] ?? 10_000);
const env = stackEnv();
const db = `bench_verify_${process.pid}`;
const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
const postgres = await scratchPostgres('bench_verify');
try {
  await admin.query(`CREATE DATABASE \`${db}\``);
  await admin.query(
    `CREATE TABLE \`${db}\`.t (id BIGINT PRIMARY KEY, amount DECIMAL(12,2) NOT NULL, at DATETIME(6) NOT NULL, note VARCHAR(64), qty INT, j JSON)`,
  );
  let started = Date.now();
  await admin.query(
    `INSERT INTO \`${db}\`.t SELECT seq, seq / 100, TIMESTAMPADD(MICROSECOND, seq * 1001, '2024-01-01'), CONCAT('note ', seq, ' ü'), IF(seq % 10 = 0, NULL, seq % 1000),
       JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', seq % 7)) FROM \`${db}\`.seq_1_to_${ROWS}`,
  );
  console.log(`MariaDB: ${ROWS} rows inserted in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // The copy: what the source's snapshot reads, applied by the PostgreSQL sink in batches, 4 at once.
  started = Date.now();
  const pool = mysql.createPool({ uri: env.MYSQL_URL, connectionLimit: 1 });
  const schema = (await readTable(pool, db, 't', {}))!.schema;
  await pool.end();
  const reader = new MySqlVerifySource({ url: env.MYSQL_URL, include: [`${db}.t`] });
  const [table] = await reader.tables();
  const sink = new PostgresSink({ name: 'bench', url: postgres.url, schema: postgres.name, manageTables: true, connections: 4 });
  await sink.start();
  const record = (row: Row, offset: number): SinkRecord => ({
    event: { op: 'r', key: { id: row.id! }, before: null, after: row, source: { connector: 'mysql', name: 'bench', db, table: 't', position: '000001', tsMs: 0, snapshot: true }, tsMs: 0, schema },
    topic: 'bench',
    partition: 0,
    offset: String(offset),
  });
  let after: Value[] | undefined;
  let copied = 0;
  for (;;) {
    const rows = await reader.chunk(table!, after, 20_000);
    const batches = [0, 1, 2, 3].map((part) => rows.filter((_, i) => Math.floor(i / 5000) === part).map((row, i) => record(row, copied + i)));
    await Promise.all(batches.filter((batch) => batch.length > 0).map((batch) => sink.apply(batch)));
    copied += rows.length;
    if (rows.length < 20_000) break;
    after = [rows.at(-1)!.id!];
  }
  await sink.close();
  await reader.close();
  console.log(`PostgreSQL: ${copied} rows copied by the sink in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const config = writeConfig(`pipeline: bench-verify
kafka: { brokers: ['${env.KAFKA_BROKERS.split(',')[0]}'] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: maria, type: mysql, url: '${env.MYSQL_URL}', include: ['${db}.t'] }
sinks:
  - { name: pg, type: postgres, url: '${postgres.url}', schema: ${postgres.name} }
`);
  const bin = join(ROOT, 'bin', 'cdc.js');
  console.log(`load average before verify ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  started = Date.now();
  const verify = spawnSync(process.execPath, [bin, 'verify', '--config', config, '--chunk-size', String(CHUNK), '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = (Date.now() - started) / 1000;
  const [result] = JSON.parse(verify.stdout) as Array<{ sourceRows: number; targetRows: number; differingRows: number }>;
  console.log(
    `cdc verify --chunk-size ${CHUNK}: exit ${verify.status}, ${result!.sourceRows} / ${result!.targetRows} rows, ${result!.differingRows} differing, ` +
      `${seconds.toFixed(1)} s wall, ${Math.round(result!.sourceRows / seconds)} rows/s`,
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.end();
  await postgres.drop();
}
