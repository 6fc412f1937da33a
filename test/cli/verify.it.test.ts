import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { compareTable } from '../../cli/verify.ts';
import { MySqlVerifySource, MySqlVerifyTarget } from '../../connectors/mysql/verify-reader.ts';
import { stackEnv } from '../support/stack-env.ts';

test('verify finds equal tables equal and names each differing key and column', { timeout: 60_000 }, async () => {
  const url = new URL(stackEnv().MYSQL_URL);
  const pool = mysql.createPool({ host: url.hostname, port: Number(url.port), user: url.username, password: url.password, connectionLimit: 4 });
  const run = randomUUID().slice(0, 8);
  const [sourceDb, targetDb] = [`verify_src_${run}`, `verify_dst_${run}`];
  const targetUrl = new URL(url);
  targetUrl.pathname = `/${targetDb}`;
  const source = new MySqlVerifySource({ url: url.toString(), include: [`${sourceDb}.t`] });
  const target = new MySqlVerifyTarget({ url: targetUrl.toString() });
  try {
    for (const db of [sourceDb, targetDb]) {
      await pool.query(`CREATE DATABASE \`${db}\``);
      await pool.query(`CREATE TABLE \`${db}\`.t (a INT, b VARCHAR(8), note VARCHAR(16) NULL, PRIMARY KEY (a, b))`);
      await pool.query(`INSERT INTO \`${db}\`.t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) SELECT i, CONCAT('k', i), IF(i % 7 = 0, NULL, CONCAT('v', i)) FROM n`);
    }
    // The sink's own column is not compared.
    await pool.query(`ALTER TABLE \`${targetDb}\`.t ADD COLUMN __cdc_pos VARCHAR(64) NULL`);
    const [table] = await source.tables();
    assert.deepEqual([table!.name, table!.keyColumns], [`${sourceDb}.t`, ['a', 'b']]);
    const location = await target.locate(table!);
    assert.deepEqual(location, { name: `${targetDb}.t`, exists: true });
    const compare = () => compareTable(source, target, table!, { chunkSize: 40 });

    const equal = await compare();
    assert.deepEqual(equal, { sourceRows: 250, targetRows: 250, chunks: 7, differingRows: 0, differences: [] });

    await pool.query(`UPDATE \`${targetDb}\`.t SET note = '' WHERE a = 14`); // NULL → '' must not look equal
    await pool.query(`UPDATE \`${targetDb}\`.t SET note = 'changed' WHERE a = 100`);
    await pool.query(`DELETE FROM \`${targetDb}\`.t WHERE a = 200`);
    await pool.query(`INSERT INTO \`${targetDb}\`.t (a, b) VALUES (999, 'extra')`);
    const different = await compare();
    assert.equal(different.sourceRows, 250);
    assert.equal(different.targetRows, 250);
    assert.equal(different.differingRows, 4);
    assert.deepEqual(
      different.differences.map((d) => `${d.key} ${d.kind} ${d.columns?.join(',') ?? '-'}`).sort(),
      ['[100,"k100"] differs note', '[14,"k14"] differs note', '[200,"k200"] missing in target -', '[999,"extra"] extra in target -'],
    );
  } finally {
    await source.close();
    await target.close();
    for (const db of [sourceDb, targetDb]) await pool.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await pool.end();
  }
});
