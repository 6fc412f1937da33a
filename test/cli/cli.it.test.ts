/**
 * `cdc` end to end on the local stack, as an operator runs it: `run` in the background, writes on the
 * source MariaDB, `verify` equal (exit 0), a row changed behind the pipeline's back (exit 1, naming the
 * key), the metrics endpoint counting, `status`, and a password that never shows anywhere.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { stackEnv } from '../support/stack-env.ts';
import { eventually } from '../topology/support/eventually.ts';
import { deletePipelineTopics } from '../topology/fixtures/kafka-kit.ts';
import { BackgroundRun, cdc, writeConfig } from './support/cli.ts';

const env = stackEnv();
const server = new URL(env.MYSQL_URL);
const run = randomUUID().slice(0, 8);
const source = `cli_src_${run}`;
const replica = `cli_replica_${run}`;
const user = `cdc_cli_${run}`;
// The password the test hunts for in every output: long and unlike anything else printed.
const secret = `Pw-${randomUUID()}`;
const pipeline = `it-cli-${run}`;
const admin = mysql.createPool({ host: server.hostname, port: Number(server.port), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password), connectionLimit: 2 });
const url = (db = '') => `mysql://${user}:${secret}@${server.host}${db ? `/${db}` : ''}`;

const config = (overrides: { registry?: string; password?: string } = {}) => `pipeline: ${pipeline}
kafka: { brokers: [${env.KAFKA_BROKERS.split(',').map((b) => `'${b}'`).join(', ')}], transactions: false }
schemaRegistry: { url: '${overrides.registry ?? env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: shop, type: mysql, url: '${url().replace(secret, overrides.password ?? secret)}', include: ['${source}.*'], chunkSize: 100 }
repartition: { partitions: 4 }
sinks:
  - { name: replica, type: mysql, url: '${url(replica).replace(secret, overrides.password ?? secret)}' }
metrics: { port: 0 }
`;

before(async () => {
  await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${secret}'`);
  await admin.query(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
  await admin.query(`CREATE DATABASE \`${source}\``);
  await admin.query(`CREATE DATABASE \`${replica}\``);
  await admin.query(`CREATE TABLE \`${source}\`.customers (id INT PRIMARY KEY, email VARCHAR(64) NOT NULL UNIQUE, name VARCHAR(64) NOT NULL)`);
  await admin.query(`INSERT INTO \`${source}\`.customers SELECT seq, CONCAT('c', seq, '@example.com'), CONCAT('Customer ', seq) FROM \`${source}\`.seq_1_to_500`);
});

after(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${source}\``);
  await admin.query(`DROP DATABASE IF EXISTS \`${replica}\``);
  await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
  await admin.end();
  await deletePipelineTopics(pipeline);
});

test('run in the background, write on the source, verify equal; a row changed behind its back makes verify exit 1 naming the key', { timeout: 240_000 }, async () => {
  const file = writeConfig(config());
  const running = new BackgroundRun(['--config', file]);
  try {
    const listening = await running.waitForLog('the metrics endpoint', (line) => line.msg === 'metrics listening');
    await running.waitForLog('the source streams', (line) => line.msg === 'streaming' && line.source === 'shop');

    await admin.query(`INSERT INTO \`${source}\`.customers SELECT seq, CONCAT('c', seq, '@example.com'), CONCAT('Customer ', seq) FROM \`${source}\`.seq_501_to_600`);
    await admin.query(`UPDATE \`${source}\`.customers SET name = CONCAT(name, ' (gold)') WHERE id % 7 = 0`);
    await admin.query(`DELETE FROM \`${source}\`.customers WHERE id % 11 = 0`);
    // Two customers swap their unique emails in one transaction, through a temporary value.
    const swap = await admin.getConnection();
    await swap.beginTransaction();
    await swap.query(`UPDATE \`${source}\`.customers SET email = 'swap' WHERE id = 1`);
    await swap.query(`UPDATE \`${source}\`.customers SET email = 'c1@example.com' WHERE id = 2`);
    await swap.query(`UPDATE \`${source}\`.customers SET email = 'c2@example.com' WHERE id = 1`);
    await swap.commit();
    swap.release();

    let verified = await cdc(['verify', '--config', file]);
    await eventually('verify finds source and replica equal', async () => {
      verified = await cdc(['verify', '--config', file]);
      return verified.code === 0;
    }, 120_000);
    assert.match(verified.stdout, new RegExp(`${source}\\.customers\\s+replica\\s+${replica}\\.customers\\s+546\\s+546\\s+\\d+\\s+equal`));

    // The metrics endpoint counts what went through each stage.
    const metrics = await (await fetch(listening.url as string)).text();
    for (const stage of ['source:shop', 'repartition', 'sink:replica']) {
      const counted = new RegExp(`^cdc_events_out_total\\{stage="${stage}"\\} (\\d+)`, 'm').exec(metrics);
      assert.ok(counted && Number(counted[1]) >= 600, `events out of ${stage}: ${counted?.[1]}`);
    }
    assert.match(metrics, /^cdc_snapshot_rows_total\{source="shop",table="cli_src_\w+\.customers"\} 500$/m);
    assert.match(metrics, /^cdc_sink_apply_seconds_count\{sink="replica"\} [1-9]/m);
    const health = await fetch(listening.health as string);
    assert.equal(health.status, 200);
    assert.deepEqual(((await health.json()) as { sources: unknown }).sources, { shop: 'streaming' });

    const status = await cdc(['status', '--json', '--config', file]);
    assert.equal(status.code, 0, status.stderr);
    const state = JSON.parse(status.stdout) as { sources: Array<{ phase: string; snapshot: { rows: number } }>; stages: Array<{ members: number }> };
    assert.equal(state.sources[0]!.phase, 'streaming');
    assert.equal(state.sources[0]!.snapshot.rows, 500);
    assert.ok(state.stages.every((stage) => stage.members === 1), 'this one process is in every group');
    const table = await cdc(['status', '--config', file]);
    assert.match(table.stdout, /shop\s+streaming/);

    await admin.query(`UPDATE \`${replica}\`.customers SET name = 'changed behind the pipeline' WHERE id = 42`);
    const differs = await cdc(['verify', '--config', file]);
    assert.equal(differs.code, 1, differs.stdout + differs.stderr);
    assert.match(differs.stdout, /DIFFERENT \(1 row\)/);
    assert.match(differs.stdout, /key \S*\b42\b\S* differs in column name/);

    assert.equal(await running.stop(), 0, running.output);
    assert.match(running.output, /"msg":"stopped"/);
    for (const output of [running.output, verified.stdout, verified.stderr, status.stdout, status.stderr, table.stdout, differs.stdout, differs.stderr]) {
      assert.ok(!output.includes(secret), 'the password never appears in logs, status or verify output');
    }
  } finally {
    running.kill();
  }
});

test('a refused password exits 2 and an unreachable registry exits 3, neither showing the password', async () => {
  const refused = await cdc(['verify', '--config', writeConfig(config({ password: `${secret}-wrong` }))]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /^cdc: sources\[0\] \(shop\): mysql:\/\/cdc_cli_\w+:\*\*\*@[^ ]+ refused the login \(.*\); check the user and password in the URL/);
  assert.ok(!refused.stderr.includes(secret), refused.stderr);

  const noRegistry = await cdc(['run', '--config', writeConfig(config({ registry: 'http://127.0.0.1:1/apis/ccompat/v7' }))]);
  assert.equal(noRegistry.code, 3, noRegistry.stderr);
  assert.match(noRegistry.stderr, /^cdc: schema registry http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7: unreachable \(.*\); check schemaRegistry\.url/);
  assert.ok(!(noRegistry.stdout + noRegistry.stderr).includes(secret));
});
