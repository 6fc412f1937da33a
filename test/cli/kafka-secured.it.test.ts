/**
 * `cdc` through the stack broker's SASL_SSL listener (SCRAM, the stack's own CA): a MariaDB → Kafka →
 * MariaDB pipeline under writes ends equal; a wrong password and an untrusted certificate are each one
 * line on stderr with exit 2, and no output holds the password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootCertificates } from 'node:tls';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../connectors/mysql/connection.ts';
import { secureKafkaEnv, stackEnv } from '../support/stack-env.ts';
import { eventually } from '../topology/support/eventually.ts';
import { deletePipelineTopics, uniquePipeline } from '../topology/fixtures/kafka-kit.ts';
import { mysqlPipelineConfig, runPipeline, SourceWriter, untilCopyEquals } from '../connectors/mysql/cli-pipeline.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';
import { scratchMariaDb } from '../connectors/support/targets.ts';
import { cdc, type CliResult } from './support/cli.ts';

const secure = secureKafkaEnv();
const ROWS = 2_000;

/** The `kafka:` section for the secure listener; `ssl` and `password` replace the working ones. */
function secureKafka(overrides: { ssl?: string; password?: string } = {}): string {
  const brokers = secure.KAFKA_SECURE_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
  const ssl = overrides.ssl ?? `{ ca: '${secure.KAFKA_SECURE_CA}' }`;
  const password = overrides.password ?? secure.KAFKA_SASL_PASSWORD;
  return `{ brokers: [${brokers}], ssl: ${ssl}, sasl: { mechanism: scram-sha-512, username: ${secure.KAFKA_SASL_USERNAME}, password: '${password}' } }`;
}

test('a pipeline through the SASL_SSL listener (SCRAM-SHA-512, the stack CA by path) copies a table under inserts and updates; verify exits 0', { timeout: 300_000 }, async () => {
  await withSourceDatabase(async ({ db, url, admin }) => {
    const pipeline = uniquePipeline('secured');
    const target = await scratchMariaDb('secured');
    const writerConnection = await mysql.createConnection(connectionOptions(url));
    const { file, config, remove } = mysqlPipelineConfig({ pipeline, db, targetUrl: target.url, chunkSize: 500, kafka: secureKafka() });
    const quoted = `\`${db}\`.items`;
    const copied = `\`${target.name}\`.items`;
    const count = async (connection: mysql.Connection, table: string) => Number(((await connection.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [[{ n: unknown }]])[0][0].n);
    let writer: SourceWriter | undefined;
    await admin.query(`CREATE TABLE ${quoted} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
    await admin.query(`INSERT INTO ${quoted} SELECT seq, 0, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${ROWS}`);
    const running = runPipeline(file);
    try {
      // Inserts, updates, deletes and key changes during the snapshot and after it.
      writer = new SourceWriter(writerConnection, quoted, ROWS);
      await running.waitForLog('the source streams', (line) => line.msg === 'streaming');
      await eventually('the copy holds the snapshot', async () => (await count(target.connection, copied).catch(() => 0)) >= ROWS / 2, 120_000);
      assert.ok((await writer.stop()) > 0, 'the writer changed the source while the pipeline ran');

      await untilCopyEquals(config, async () => (await count(admin, quoted)) === (await count(target.connection, copied)));
      const verified = await cdc(['verify', '--config', file]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.equal(await running.stop(), 0, running.output);
      assert.ok(!running.output.includes(secure.KAFKA_SASL_PASSWORD), 'the SASL password never shows in the logs');
    } finally {
      await writer?.stop();
      running.kill();
      await running.exited;
      await writerConnection.end();
      await target.drop();
      remove();
      await deletePipelineTopics(pipeline);
    }
  });
});

/** One line on stderr, exit 2, and `secret` nowhere in stdout or stderr. */
function assertRefused(result: CliResult, line: RegExp, secret: string): void {
  const lines = result.stderr.split('\n').filter((text) => text.trim() !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, line);
  assert.equal(result.code, 2, result.stderr);
  assert.ok(!`${result.stdout}${result.stderr}`.includes(secret), `the secret shows in:\n${result.stdout}${result.stderr}`);
}

/** `cdc run` with this `kafka:` section and otherwise working servers; it must refuse to start. */
async function runWith(kafka: string): Promise<CliResult> {
  const pipeline = uniquePipeline('secured-refused');
  // Servers that answer, so that Kafka is the one refusing.
  const targetUrl = new URL('/mysql', stackEnv().MYSQL_URL).toString();
  const { file, remove } = mysqlPipelineConfig({ pipeline, db: 'unused', targetUrl, chunkSize: 100, kafka });
  try {
    return await cdc(['run', '--config', file]);
  } finally {
    remove();
  }
}

test('a wrong SASL password: cdc run exits 2 with one line naming the brokers and the user, and the password shows nowhere', { timeout: 60_000 }, async () => {
  const wrong = `Wrong-${uniquePipeline('pw')}`;
  assertRefused(
    await runWith(secureKafka({ password: wrong })),
    new RegExp(`^cdc: kafka\\.sasl: kafka ${secure.KAFKA_SECURE_BROKERS.replaceAll('.', '\\.')} refused the login of user ${secure.KAFKA_SASL_USERNAME} \\(scram-sha-512\\); check kafka\\.sasl\\.username, password and mechanism \\[CONFIG_INVALID\\]$`),
    wrong,
  );
});

test('an untrusted broker certificate (no CA given, or another CA as PEM text): cdc run exits 2 with one line saying to set kafka.ssl.ca', { timeout: 60_000 }, async () => {
  const untrusted = new RegExp(`^cdc: kafka\\.ssl: the TLS certificate of kafka ${secure.KAFKA_SECURE_BROKERS.replaceAll('.', '\\.')} is not trusted \\(.+\\); set kafka\\.ssl\\.ca to the CA that signed the brokers' certificates \\[CONFIG_INVALID\\]$`);
  assertRefused(await runWith(secureKafka({ ssl: 'true' })), untrusted, secure.KAFKA_SASL_PASSWORD);
  assertRefused(await runWith(secureKafka({ ssl: `{ ca: ${JSON.stringify(rootCertificates[0])} }` })), untrusted, secure.KAFKA_SASL_PASSWORD);
});
