import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import { stackEnv } from '../support/stack-env.ts';

test('an INSERT on the stack MariaDB arrives as a binlog row event', { timeout: 60_000 }, async () => {
  const url = new URL(stackEnv().MYSQL_URL);
  const settings = { host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  const db = `stack_check_${randomUUID().slice(0, 8)}`;
  const connection = await mysql.createConnection(settings);
  const [[variables]] = (await connection.query(
    "SELECT @@binlog_format AS format, @@binlog_row_image AS image, @@binlog_row_metadata AS metadata",
  )) as unknown as [[{ format: string; image: string; metadata: string }]];
  assert.deepEqual(variables, { format: 'ROW', image: 'FULL', metadata: 'FULL' });

  await connection.query(`CREATE DATABASE \`${db}\``);
  await connection.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, name VARCHAR(32))`);
  const zongji = new ZongJi(settings);
  try {
    const row = new Promise<Record<string, unknown>>((resolve, reject) => {
      zongji.on('error', reject);
      zongji.on('binlog', (event: AnyBinlogEvent) => {
        if (event.getTypeName() === 'WriteRows' && 'rows' in event && event.rows[0]) resolve(event.rows[0] as Record<string, unknown>);
      });
    });
    await new Promise<void>((resolve) => {
      zongji.on('ready', () => resolve());
      zongji.start({ startAtEnd: true, serverId: 1000 + Math.floor(Math.random() * 100_000), includeEvents: ['tablemap', 'writerows'], includeSchema: { [db]: true } });
    });
    await connection.query(`INSERT INTO \`${db}\`.t VALUES (1, 'lucy')`);
    assert.deepEqual(await row, { id: 1, name: 'lucy' });
  } finally {
    zongji.stop();
    await connection.query(`DROP DATABASE \`${db}\``);
    await connection.end();
  }
});
