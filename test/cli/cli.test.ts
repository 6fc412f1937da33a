/**
 * The `cdc` command's exit codes and error lines, through bin/cdc.js in a child process. No server is
 * needed: config errors stop before anything connects, and the unreachable cases point at closed ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CDC_NODE_FLAGS } from '../../scripts/node-flags.ts';
import { BIN, cdc, closedConfig, writeConfig, type CliResult } from './support/cli.ts';

const valid = closedConfig('cli-errors');

/** One line on stderr starting `cdc: `, and the exit code. */
function assertOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(result.stderr + result.stdout, /secret/, 'the password appears nowhere');
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --verbose');
}

test('config errors exit 2 with one line naming the file and path, before anything connects', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['missing field', valid.replace('pipeline: cli-errors\n', ''), /^cdc: .*pipeline\.yaml: pipeline: missing/],
    ['unknown key', valid.replace('type: mysql,', 'type: mysql, chunksize: 5,'), /^cdc: .*: sources\[0\]\.chunksize: unknown key/],
    ['wrong type', valid.replace('type: mysql,', "type: mysql, chunkSize: 'big',"), /^cdc: .*: sources\[0\]\.chunkSize: .*expected number/],
    ['bad URL scheme', valid.replace("url: 'mysql://u:secret@127.0.0.1:1/shop'", "url: 'http://u:secret@127.0.0.1:1/shop'"), /^cdc: .*: sources\[0\]\.url: expected a mysql:\/\/ or mariadb:\/\/ URL/],
    ['unset ${ENV}', valid.replace('u:secret@', 'u:${CDC_TEST_UNSET_PASSWORD}@'), /^cdc: .*: sources\[0\]\.url: environment variable CDC_TEST_UNSET_PASSWORD is not set/],
    ['not YAML', 'pipeline: [\n', /^cdc: .*: not valid YAML: /],
  ];
  for (const [what, text, pattern] of cases) {
    const result = await cdc(['run', '--config', writeConfig(text)]);
    assertOneLineError(result, 2, pattern);
    assert.equal(result.stdout, '', `${what}: nothing started, nothing logged`);
  }
  assertOneLineError(await cdc(['describe', '--config', '/nonexistent/pipeline.yaml']), 2, /^cdc: \/nonexistent\/pipeline\.yaml: cannot read the config file \(ENOENT\)/);
});

test('usage errors exit 2: a missing --config, a bad --only, a bad --from, --since or --offsets, an unknown sink', async () => {
  const config = writeConfig(valid);
  const missing = await cdc(['status']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '-c, --config <file>' not specified/);
  const only = await cdc(['run', '--config', config, '--only', 'everything']);
  assert.equal(only.code, 2);
  assert.match(only.stderr, /argument 'everything' is invalid\. Allowed choices are sources, sinks/);
  assertOneLineError(await cdc(['replay', '--config', config, '--sink', 'replica', '--from', 'yesterday']), 2, /^cdc: --from: "yesterday" is not earliest, an ISO time/);
  assertOneLineError(await cdc(['replay', '--config', config, '--sink', 'nope', '--from', 'earliest']), 2, /^cdc: --sink: the config has no sink named nope \(it has: replica\)/);
  assertOneLineError(await cdc(['dlq', 'list', '--config', config, '--since', 'yesterday']), 2, /^cdc: --since: "yesterday" is not an ISO time/);
  assertOneLineError(await cdc(['dlq', 'replay', '--config', config, '--offsets', '3']), 2, /^cdc: --offsets: "3" is not partition:offset pairs/);
  assertOneLineError(await cdc(['dlq', 'replay', '--config', config, '--sink', 'nope']), 2, /^cdc: --sink: the config has no sink named nope/);
});

test('an unreachable Kafka, registry or database exits 3 with one line saying which and where', async () => {
  assertOneLineError(await cdc(['status', '--config', writeConfig(valid)]), 3, /^cdc: kafka 127\.0\.0\.1:1: unreachable \(.*\); check kafka\.brokers/);
  assertOneLineError(await cdc(['dlq', 'list', '--config', writeConfig(valid)]), 3, /^cdc: kafka 127\.0\.0\.1:1: unreachable/);
  assertOneLineError(await cdc(['verify', '--config', writeConfig(valid)]), 3, /^cdc: sources\[0\] \(shop\) mysql:\/\/u:\*\*\*@127\.0\.0\.1:1\/shop: unreachable \(.*ECONNREFUSED.*\)/);
  // run checks every server it needs at once and names the first in config order: Kafka.
  const run = await cdc(['run', '--config', writeConfig(valid)]);
  assertOneLineError(run, 3, /^cdc: kafka 127\.0\.0\.1:1: unreachable/);
  assert.equal(JSON.parse(run.stdout.trim()).code, 'UNREACHABLE', 'the failure is also one JSON log line');
});

test('--verbose adds the stack trace', async () => {
  const result = await cdc(['verify', '--verbose', '--config', writeConfig(valid)]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /\n\s+at /);
  assert.doesNotMatch(result.stderr, /secret/);
});

test('describe prints the topology without connecting to anything', async () => {
  const result = await cdc(['describe', '--config', writeConfig(valid)]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Sub-topology 2: sink replica\n\s+consumer group: cli-errors\.sink\.replica\n\s+<-- Topic: cli-errors\.repartition \[8 partitions\]/);
  const json = JSON.parse((await cdc(['describe', '--json', '--config', writeConfig(valid)])).stdout) as { stages: unknown[] };
  assert.equal(json.stages.length, 3);
});

test('bin/cdc.js, run as a user runs it (its shebang), starts Node with the V8 flags the tests and benchmarks use, and this Node accepts them', async () => {
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!;
  assert.deepEqual(shebang.replace(/^#!\/usr\/bin\/env -S node /, '').split(' '), CDC_NODE_FLAGS);
  // Node refuses to start on a V8 flag it does not know: a Node whose V8 dropped one fails here.
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = execFile(BIN, ['describe', '--config', writeConfig(valid)], (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }));
    child.on('error', reject);
  });
  assert.equal(result.code, 0, result.stderr);
});
