/**
 * `cdc snapshot`: its arguments checked before anything connects (through bin/cdc.js, as cli.test.ts does,
 * against a config whose servers are a closed port), and the lines it prints for notifications and results.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSnapshotCommand, formatNotification, formatSnapshotResult, parseTimeout, type SnapshotCommand } from '../../cli/commands/snapshot.ts';
import { parseConfig } from '../../cli/config.ts';
import { ConfigError } from '../../topology/errors.ts';
import type { SnapshotSignal } from '../../topology/signals.ts';
import { cdc, CLOSED, closedConfig, writeConfig } from './support/cli.ts';

/** A MySQL source `shop` and a MongoDB source `catalog`, at a closed port. */
const text = closedConfig('snap').replace('sinks:\n', `  - { name: catalog, type: mongodb, url: 'mongodb://${CLOSED}', database: catalog }\nsinks:\n`);
const config = parseConfig(text, 'pipeline.yaml', {});

test('a request names a source of the config and, for a MySQL source, db.table names; --timeout needs something to wait for', () => {
  const request = (command: Partial<SnapshotCommand>): SnapshotCommand => ({ source: 'shop', tables: ['shop.orders'], wait: 'accepted', ...command });
  checkSnapshotCommand(config, request({}));
  checkSnapshotCommand(config, request({ source: 'catalog', tables: ['products'] }));
  const cases: Array<[Partial<SnapshotCommand>, RegExp]> = [
    [{ source: 'nope' }, /^--source: the config has no source named nope \(it has: shop, catalog\)$/],
    [{ tables: [] }, /^--table: name a table to snapshot \(db\.table of source shop; repeat it for more\)$/],
    [{ source: 'catalog', tables: [] }, /^--table: name a table to snapshot \(a collection of source catalog; repeat it for more\)$/],
    [{ tables: ['shop.orders', 'orders'] }, /^--table: "orders" is not db\.table \(source shop captures MySQL\/MariaDB tables\)$/],
    [{ wait: 'none', timeoutMs: 5_000 }, /^--timeout: with --wait none nothing is waited for$/],
  ];
  for (const [command, message] of cases) {
    assert.throws(() => checkSnapshotCommand(config, request(command)), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(command));
  }
});

test('--timeout takes seconds above 0', () => {
  assert.equal(parseTimeout('90'), 90_000);
  assert.equal(parseTimeout('0.5'), 500);
  for (const bad of ['0', '-1', 'soon', '', 'Infinity']) {
    assert.throws(() => parseTimeout(bad), (error: unknown) => error instanceof ConfigError && /^--timeout: ".*" is not a number of seconds above 0$/.test(error.message), bad);
  }
});

test('argument errors exit 2 with one line before anything connects; a valid request to a closed Kafka exits 3', async () => {
  const file = writeConfig(text);
  const missing = await cdc(['snapshot', '--config', file, '--table', 'shop.orders']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--source <name>' not specified/);
  const wait = await cdc(['snapshot', '--config', file, '--source', 'shop', '--table', 'shop.orders', '--wait', 'forever']);
  assert.equal(wait.code, 2);
  assert.match(wait.stderr, /argument 'forever' is invalid\. Allowed choices are accepted, finished, none/);
  for (const [args, line] of [
    [['--source', 'nope', '--table', 'shop.orders'], 'cdc: --source: the config has no source named nope (it has: shop, catalog)'],
    [['--source', 'shop'], 'cdc: --table: name a table to snapshot (db.table of source shop; repeat it for more)'],
    [['--source', 'shop', '--table', 'shop.orders', '--timeout', 'soon'], 'cdc: --timeout: "soon" is not a number of seconds above 0'],
  ] as const) {
    const result = await cdc(['snapshot', '--config', file, ...args]);
    assert.deepEqual([result.code, result.stderr, result.stdout], [2, `${line} [CONFIG_INVALID]\n`, ''], args.join(' '));
  }
  const unreachable = await cdc(['snapshot', '--config', file, '--source', 'shop', '--table', 'shop.orders']);
  assert.equal(unreachable.code, 3, unreachable.stderr);
  assert.match(unreachable.stderr, /^cdc: kafka 127\.0\.0\.1:1: unreachable/);
});

test('a notification is one line: time, source, type, then its fields; the result is one line that says what became of the request', () => {
  const at = Date.UTC(2026, 10, 22, 10);
  assert.equal(
    formatNotification({ type: 'incremental-accepted', id: 'r1', tables: ['shop.a', 'shop.b'], refused: [{ table: 'shop.x', reason: 'gone' }], pipeline: 'snap', source: 'shop', at }),
    '2026-11-22T10:00:00.000Z  shop  incremental-accepted  id=r1  tables=shop.a,shop.b  refused=[{"table":"shop.x","reason":"gone"}]',
  );
  assert.equal(
    formatNotification({ type: 'incremental-table-snapshotted', id: 'r1', table: 'shop.a', rows: 250, chunks: 3, durationMs: 41, pipeline: 'snap', source: 'shop', at }),
    '2026-11-22T10:00:00.000Z  shop  incremental-table-snapshotted  id=r1  table=shop.a  rows=250  chunks=3  durationMs=41',
  );
  const request: SnapshotSignal = { type: 'snapshot', id: 'r1', source: 'shop', tables: ['shop.a', 'shop.x'], requestedAt: at };
  const refused = [{ table: 'shop.x', reason: 'source shop does not capture shop.x' }];
  assert.deepEqual(
    [
      formatSnapshotResult('snap', { status: 'sent', request }),
      formatSnapshotResult('snap', { status: 'accepted', request, tables: ['shop.a'], refused }),
      formatSnapshotResult('snap', { status: 'finished', request, tables: ['shop.a'], refused: [] }),
      formatSnapshotResult('snap', { status: 'refused', request, reason: 'source shop cannot take incremental snapshots' }),
      formatSnapshotResult('snap', { status: 'timed-out', request, message: 'no process running source shop answered within 60 s; …' }),
    ],
    [
      'request r1 is on snap.sources: the process running source shop takes it; its answer comes on snap.notifications',
      'source shop accepted request r1: snapshotting shop.a while it streams (cdc status shows the progress); refused shop.x (source shop does not capture shop.x)',
      'source shop finished request r1: snapshotted shop.a',
      'source shop refused request r1: source shop cannot take incremental snapshots',
      'no process running source shop answered within 60 s; …',
    ],
  );
});
