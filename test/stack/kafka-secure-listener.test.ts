/**
 * `stack up` restarts a running broker that lacks the secure listener (one started by an older checkout),
 * judged by the server.properties its command line names; a stand-in process plays the broker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaInstance } from '../../scripts/stack/services/kafka.ts';

test('a running broker whose server.properties has no SASL_SSL listener on the secure port is outdated; one with it is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-kafka-'));
  const config = join(dir, 'server.properties');
  const broker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', config], { stdio: 'ignore' });
  try {
    const service = kafkaInstance({ name: 'kafka-outdated', port: 19_092, dir, securePort: 19_094 });
    const listeners = (list: string) => writeFileSync(config, `process.roles=broker,controller\nlisteners=${list}\nlog.dirs=${dir}/data\n`);

    listeners('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    assert.equal(service.outdated?.(broker.pid!), `the running broker (pid ${broker.pid}, ${config}) has no SASL_SSL listener on port 19094`);
    listeners('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,SASL_SSL://127.0.0.1:19095');
    assert.match(service.outdated?.(broker.pid!) ?? '', /no SASL_SSL listener on port 19094/, 'a listener on another port does not count');
    listeners('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,SASL_SSL://127.0.0.1:19094');
    assert.equal(service.outdated?.(broker.pid!), undefined);

    // A test's private broker has no secure listener and needs none.
    listeners('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    assert.equal(kafkaInstance({ name: 'kafka-private', port: 19_092, dir }).outdated?.(broker.pid!), undefined);
  } finally {
    broker.kill();
    await once(broker, 'close');
    rmSync(dir, { recursive: true, force: true });
  }
});
