import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the stack script in a scratch STACK_HOME, so the real stack is never touched. */
function stack(args: string[], env: Record<string, string>): { status: number | null; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), 'stack-home-'));
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/stack.ts', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, STACK_HOME: home, ...env },
      timeout: 60_000,
    });
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** A PATH holding only node and the given stubs. */
function pathWith(stubs: Record<string, string>, links: string[] = []): string {
  const bin = mkdtempSync(join(tmpdir(), 'stack-bin-'));
  symlinkSync(process.execPath, join(bin, 'node'));
  for (const tool of links) symlinkSync(join('/usr/bin', tool), join(bin, tool));
  for (const [name, script] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('nodedir'));
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  return lines[0]!;
}

test('a port held by another process is one line naming the port and what to do', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const result = stack(['up', 'mongodb'], { STACK_MONGODB_PORT: String(port), MONGODB_URL: '' });
    assert.equal(result.status, 1);
    assert.match(oneLine(result.stderr), new RegExp(`^stack: mongodb: port ${port} on 127.0.0.1 is taken by another process: stop it, or export MONGODB_URL`));
  } finally {
    server.close();
  }
});

test('missing Java is one line saying to install it', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  server.close();
  const result = stack(['up', 'mongodb'], { PATH: pathWith({}), STACK_MONGODB_PORT: String(port), MONGODB_URL: '' });
  assert.equal(result.status, 1);
  assert.match(oneLine(result.stderr), /^stack: java was not found: install Java 17 or newer/);
});

test('Maven failing to fetch is one line pointing at the network and the log', async () => {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  server.close();
  const path = pathWith({ mvn: 'echo "Could not transfer artifact: Network is unreachable"; exit 1' }, ['java']);
  const result = stack(['up', 'mongodb'], { PATH: path, STACK_MONGODB_PORT: String(port), MONGODB_URL: '' });
  assert.equal(result.status, 1);
  assert.match(oneLine(result.stderr), /^stack: Maven could not fetch the mongodb jars from Maven Central: check the network or the proxy .*maven-mongodb\.log/);
});

test('an unknown service name is refused with the list of names', () => {
  const result = stack(['up', 'redis'], {});
  assert.equal(result.status, 1);
  assert.match(oneLine(result.stderr), /^stack: unknown service 'redis': choose from kafka, registry, mariadb, mongodb, postgres$/);
});
