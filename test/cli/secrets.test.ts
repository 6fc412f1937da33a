import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../cli/config.ts';
import { SecretScrubber, redactUrls, secretsOf } from '../../cli/secrets.ts';

test('URL credentials are masked wherever a URL appears in text', () => {
  assert.equal(redactUrls('connect mysql://u:secret@host:3306/db failed'), 'connect mysql://u:***@host:3306/db failed');
  assert.equal(redactUrls('mongodb+srv://a:b%40c@cluster/x'), 'mongodb+srv://a:***@cluster/x');
  assert.equal(redactUrls('postgresql://postgres@127.0.0.1/test'), 'postgresql://postgres@127.0.0.1/test');
});

test('every secret of a config is scrubbed, even when a driver echoes it outside a URL', () => {
  const config = parseConfig(
    `pipeline: p
kafka: { brokers: ['k:9092'], sasl: { mechanism: plain, username: u, password: 'kafka-pw' } }
schemaRegistry: { url: 'http://r:8081', username: r, password: 'registry-pw' }
sources: [{ name: s, type: mysql, url: 'mysql://u:p%40ss@h:3306' }]
`,
    'c.yaml',
    {},
  );
  assert.deepEqual(secretsOf(config).sort(), ['kafka-pw', 'p@ss', 'registry-pw']);
  const scrubber = new SecretScrubber(secretsOf(config));
  assert.equal(scrubber.scrub("Access denied for user 'u' (using password: p@ss); sasl kafka-pw"), "Access denied for user 'u' (using password: ***); sasl ***");
});

test("the console's password and the basic-auth credentials made of it are secrets too", () => {
  const config = parseConfig(
    `pipeline: p
kafka: { brokers: ['k:9092'] }
schemaRegistry: { url: 'http://r:8081' }
sources: [{ name: s, type: mysql, url: 'mysql://u@h:3306' }]
metrics: { auth: { username: ops, password: 'console-pw' } }
`,
    'c.yaml',
    {},
  );
  const credentials = Buffer.from('ops:console-pw').toString('base64');
  assert.deepEqual(secretsOf(config).sort(), [credentials, 'console-pw'].sort());
  assert.equal(new SecretScrubber(secretsOf(config)).scrub(`password console-pw, Authorization: Basic ${credentials}`), 'password ***, Authorization: Basic ***');
});
