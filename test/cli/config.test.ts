import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../cli/config.ts';
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

function errorOf(text: string, withEnv: NodeJS.ProcessEnv = env): string {
  try {
    parseConfig(text, 'pipeline.yaml', withEnv);
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
