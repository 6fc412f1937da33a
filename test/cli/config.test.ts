import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../cli/config.ts';
import { secretsOf } from '../../cli/secrets.ts';
import { repartitionOf } from '../../cli/pipeline.ts';
import { ConfigError } from '../../topology/errors.ts';

const valid = `pipeline: shop
kafka: { brokers: ['127.0.0.1:9092'] }
schemaRegistry: { url: 'http://127.0.0.1:8081/apis/ccompat/v7' }
sources:
  - { name: shop, type: mysql, url: 'mysql://cdc:\${MYSQL_PASSWORD}@127.0.0.1:3307' }
  - { name: catalog, type: mongodb, url: 'mongodb://127.0.0.1:27017', database: catalog }
sinks:
  - { name: replica, type: postgres, url: 'postgresql://postgres@127.0.0.1:5432/test' }
`;
const env = { MYSQL_PASSWORD: 's3cret' };

function errorOf(text: string, withEnv: NodeJS.ProcessEnv = env, file = 'pipeline.yaml'): string {
  try {
    parseConfig(text, file, withEnv);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail('the config was accepted');
}

test('a valid config gets its defaults and its ${ENV} references', () => {
  const config = parseConfig(valid, 'pipeline.yaml', env);
  assert.equal(config.sources[0]!.url, 'mysql://cdc:s3cret@127.0.0.1:3307');
  assert.equal(repartitionOf(config)?.partitions, 8);
  assert.equal(config.kafka.transactions, true);
  assert.equal(config.kafka.sessionTimeoutMs, 30_000);
  assert.deepEqual(config.sources[0]!.type === 'mysql' && config.sources[0]!.include, ['*.*']);
  assert.deepEqual(config.sinks[0]!.include, ['*.*']);
  assert.deepEqual(config.sinks[0]!.tombstones, { retentionMs: 86_400_000, purgeIntervalMs: 60_000, batchSize: 1_000 });
});

test("a sink's tombstone purge takes durations, or retention 'never'", () => {
  const withTombstones = (tombstones: string) => parseConfig(valid.replace("type: postgres,", `type: postgres, tombstones: ${tombstones},`), 'pipeline.yaml', env).sinks[0]!.tombstones;
  assert.deepEqual(withTombstones("{ retention: '7d', purgeInterval: '30s' }"), { retentionMs: 7 * 86_400_000, purgeIntervalMs: 30_000, batchSize: 1_000 });
  assert.deepEqual(withTombstones("{ retention: never, batchSize: 500 }"), { retentionMs: null, purgeIntervalMs: 60_000, batchSize: 500 });
  assert.equal(
    errorOf(valid.replace('type: postgres,', "type: postgres, tombstones: { retention: '1 day' },")),
    "pipeline.yaml: sinks[0].tombstones.retention: expected 'never' or a duration such as '12h' or '7d'",
  );
  assert.match(errorOf(valid.replace('type: postgres,', 'type: postgres, tombstones: { purgeInterval: 5 },')), /^pipeline\.yaml: sinks\[0\]\.tombstones\.purgeInterval: .*expected string/);
});

test("a sink's batches: 2000 rows and 96 KiB by default, each a whole number in range", () => {
  const withSink = (options: string) => parseConfig(valid.replace('type: postgres,', `type: postgres, ${options}`), 'pipeline.yaml', env).sinks[0]!;
  assert.deepEqual(pick(withSink('')), { maxBatchRows: 2_000, maxBatchBytes: 98_304 });
  assert.deepEqual(pick(withSink('maxBatchRows: 500, maxBatchBytes: 1048576,')), { maxBatchRows: 500, maxBatchBytes: 1_048_576 });
  assert.match(errorOf(valid.replace('type: postgres,', 'type: postgres, maxBatchBytes: 100,')), /^pipeline\.yaml: sinks\[0\]\.maxBatchBytes: .*1024/);
  assert.match(errorOf(valid.replace('type: postgres,', 'type: postgres, maxBatchRows: 0,')), /^pipeline\.yaml: sinks\[0\]\.maxBatchRows: /);
});

function pick({ maxBatchRows, maxBatchBytes }: { maxBatchRows: number; maxBatchBytes: number }) {
  return { maxBatchRows, maxBatchBytes };
}

test("a source's heartbeat: a duration, 10s by default, 'off' or 0s for none", () => {
  const heartbeats = (text: string) => parseConfig(text, 'pipeline.yaml', env).sources.map((source) => source.heartbeat);
  assert.deepEqual(heartbeats(valid), [10_000, 10_000]);
  assert.deepEqual(heartbeats(valid.replace('type: mysql,', "type: mysql, heartbeat: 500ms,").replace('type: mongodb,', 'type: mongodb, heartbeat: off,')), [500, 0]);
  assert.deepEqual(heartbeats(valid.replace('type: mysql,', 'type: mysql, heartbeat: 0s,')), [0, 10_000]);
  assert.match(errorOf(valid.replace('type: mongodb,', 'type: mongodb, heartbeat: 10,')), /^pipeline\.yaml: sources\[1\]\.heartbeat: .*expected string/);
  assert.equal(errorOf(valid.replace('type: mysql,', "type: mysql, heartbeat: 'ten seconds',")), "pipeline.yaml: sources[0].heartbeat: expected 'off' or a duration such as '10s' or '500ms'");
  assert.match(errorOf(valid.replace('type: mongodb,', 'type: mongodb, heartbeatIntervalMs: 5,')), /sources\[1\]\.heartbeatIntervalMs: unknown key/);
});

test("a MySQL source's spreadSnapshot: off by default; a MongoDB source asking for it gets a one-line error", () => {
  const spread = (text: string) => parseConfig(text, 'pipeline.yaml', env).sources.map((source) => source.type === 'mysql' && source.spreadSnapshot);
  assert.deepEqual(spread(valid), [false, false]);
  assert.deepEqual(spread(valid.replace('type: mysql,', 'type: mysql, spreadSnapshot: true,')), [true, false]);
  assert.deepEqual(spread(valid.replace('type: mongodb,', 'type: mongodb, spreadSnapshot: false,')), [false, false]);
  assert.equal(
    errorOf(valid.replace('type: mongodb,', 'type: mongodb, spreadSnapshot: true,')),
    'pipeline.yaml: sources[1].spreadSnapshot: a MongoDB source snapshots in the process that owns it: spreadSnapshot is for MySQL/MariaDB sources, remove it',
  );
  assert.match(errorOf(valid.replace('type: mysql,', 'type: mysql, spreadSnapshot: yes please,')), /^pipeline\.yaml: sources\[0\]\.spreadSnapshot: .*boolean/);
});

test('each class of config error is one line naming the path', () => {
  assert.equal(errorOf(valid, {}), 'pipeline.yaml: sources[0].url: environment variable MYSQL_PASSWORD is not set');
  assert.equal(
    errorOf(valid.replace("url: 'mongodb://", "url: 'http://")),
    'pipeline.yaml: sources[1].url: expected a mongodb:// or mongodb+srv:// URL (the source server)',
  );
  assert.equal(
    errorOf(valid.replace('type: mysql,', 'type: mysql, chunksize: 5,')),
    'pipeline.yaml: sources[0].chunksize: unknown key (check its spelling; docs/config.md lists the keys)',
  );
  assert.equal(errorOf(`${valid}bogus: 1\n`), 'pipeline.yaml: bogus: unknown key (check its spelling; docs/config.md lists the keys)');
  assert.equal(errorOf(valid.replace("kafka: { brokers: ['127.0.0.1:9092'] }\n", '')), 'pipeline.yaml: kafka: missing (expected object)');
  assert.match(errorOf(valid.replace('type: mysql,', "type: mysql, chunkSize: 'big',")), /^pipeline\.yaml: sources\[0\]\.chunkSize: .*expected number/);
  assert.match(errorOf(valid.replace("brokers: ['127.0.0.1:9092']", "brokers: ['127.0.0.1:9092'], sessionTimeoutMs: 1000")), /^pipeline\.yaml: kafka\.sessionTimeoutMs: .*6000/);
  assert.match(errorOf(valid.replace("brokers: ['127.0.0.1:9092']", "brokers: ['kafka']")), /^pipeline\.yaml: kafka\.brokers\[0\]: expected host:port$/);
  assert.match(errorOf(valid.replace('type: postgres', 'type: oracle')), /^pipeline\.yaml: sinks\[0\]\.type: /);
  assert.match(errorOf('pipeline: [\n'), /^pipeline\.yaml: not valid YAML: /);
});

test('kafka.ssl ca, cert and key: a path (relative to the config file) is read, PEM text is taken as it is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-pem-'));
  try {
    const pem = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
    writeFileSync(join(dir, 'ca.pem'), pem('CERTIFICATE'));
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'client.key'), pem('PRIVATE KEY'));
    const withSsl = (ssl: string) => valid.replace("kafka: { brokers: ['127.0.0.1:9092'] }", `kafka: { brokers: ['127.0.0.1:9094'], ssl: ${ssl} }`);
    const config = parseConfig(withSsl(`{ ca: ca.pem, key: ${JSON.stringify(join(dir, 'tls', 'client.key'))}, cert: ${JSON.stringify(pem('CERTIFICATE'))} }`), join(dir, 'pipeline.yaml'), env);
    assert.deepEqual(config.kafka.ssl, { ca: pem('CERTIFICATE'), key: pem('PRIVATE KEY'), cert: pem('CERTIFICATE'), rejectUnauthorized: true });
    // The key is a secret like a password: scrubbed from any output.
    assert.ok(secretsOf(config).includes(pem('PRIVATE KEY')));

    assert.match(errorOf(withSsl('{ ca: missing.pem }'), env, join(dir, 'pipeline.yaml')), /kafka\.ssl\.ca: cannot read .*missing\.pem \(ENOENT\); give the path of a PEM file or the PEM text itself$/);
    writeFileSync(join(dir, 'not-pem.txt'), 'hunter2');
    const message = errorOf(withSsl('{ key: not-pem.txt }'), env, join(dir, 'pipeline.yaml'));
    assert.match(message, /kafka\.ssl\.key: .*not-pem\.txt holds no PEM block/);
    assert.doesNotMatch(message, /hunter2/, 'a file that might be a key is never echoed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
