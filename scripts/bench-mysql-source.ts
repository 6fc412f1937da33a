/**
 * Snapshot and streaming throughput of the MySQL source on the stack MariaDB, for a 10-column table.
 *   npx tsx scripts/bench-mysql-source.ts [rows=200000]
 * Events are counted, not written anywhere: this measures the connector alone.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { lastValueFrom, takeWhile, tap } from 'rxjs';
import { MySqlSource } from '../connectors/mysql/source.ts';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { FlowControl } from '../topology/flow-control.ts';
import { stackEnv } from '../test/support/stack-env.ts';

const rows = Number(process.argv[2] ?? 200_000);
const url = stackEnv().MYSQL_URL;
const db = `bench_${randomUUID().slice(0, 8)}`;
const admin = await mysql.createConnection(connectionOptions(url));
const source = new MySqlSource({ name: 'bench', url, serverId: 100_000 + Math.floor(Math.random() * 1_000_000_000), include: [`${db}.*`] });

try {
  await admin.query('CREATE DATABASE ??', [db]);
  await admin.query(`CREATE TABLE \`${db}\`.wide (
    id BIGINT PRIMARY KEY, a INT, b INT UNSIGNED, c VARCHAR(40), d DECIMAL(12,2), e DOUBLE, f DATETIME(6), g DATE, h TINYINT, i TEXT)`);
  const from = await source.openLog();
  // One transaction per 10k rows: the rows also become the binlog the streaming run reads.
  for (let start = 1; start <= rows; start += 10_000) {
    const end = Math.min(rows, start + 9_999);
    await admin.query(
      `INSERT INTO \`${db}\`.wide SELECT seq, seq % 1000, seq * 3, CONCAT('name ', seq), seq / 7, seq * 1.5,
         '2024-01-02 03:04:05.123456' + INTERVAL seq SECOND, '2024-01-02' + INTERVAL seq % 3000 DAY, seq % 100, REPEAT('x', 20)
         FROM \`${db}\`.seq_${start}_to_${end}`,
    );
  }

  let snapshotted = 0;
  const snapshotStart = performance.now();
  await lastValueFrom(source.snapshot(from, {}, new FlowControl()).pipe(tap((item) => item.kind === 'row' && snapshotted++)), { defaultValue: undefined });
  const snapshotSeconds = (performance.now() - snapshotStart) / 1000;

  let streamed = 0;
  const streamStart = performance.now();
  await lastValueFrom(
    source.stream(from, new FlowControl()).pipe(
      tap((item) => item.kind === 'change' && streamed++),
      takeWhile(() => streamed < rows),
    ),
    { defaultValue: undefined },
  );
  const streamSeconds = (performance.now() - streamStart) / 1000;

  console.log(`rows: ${rows} (10 columns), MariaDB on ${new URL(url).host}`);
  console.log(`snapshot:  ${snapshotted} rows in ${snapshotSeconds.toFixed(2)} s = ${Math.round(snapshotted / snapshotSeconds)} rows/s`);
  console.log(`streaming: ${streamed} rows in ${streamSeconds.toFixed(2)} s = ${Math.round(streamed / streamSeconds)} rows/s`);
} finally {
  await source.close();
  await admin.query('DROP DATABASE IF EXISTS ??', [db]);
  await admin.end();
}
