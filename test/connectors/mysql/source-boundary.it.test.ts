/**
 * StreamCursor.boundary of the binlog stream (connectors/mysql/binlog-stream.ts), on a private MariaDB
 * (private-mariadb.ts): nothing but the test writes to its binlog, so an idle stream's boundary can be
 * held to the server's exact position. On the shared server other tests' writes would move it anyway.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql, { type Connection } from 'mysql2/promise';
import type { Subscription } from 'rxjs';
import { MySqlSource } from '../../../connectors/mysql/source.ts';
import { boundaryPosition } from '../../../connectors/mysql/position.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { LogPosition, StreamCursor, StreamItem } from '../../../topology/source.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { PrivateMariaDb } from '../support/private-mariadb.ts';
import { randomServerId } from './source-fixture.ts';

let server: PrivateMariaDb | undefined;
let admin: Connection | undefined;

before(async () => {
  server = await PrivateMariaDb.start('boundary');
  admin = await mysql.createConnection(server.url());
  await admin.query('CREATE DATABASE captured');
  await admin.query('CREATE DATABASE other');
  await admin.query('CREATE TABLE captured.items (id INT PRIMARY KEY)');
  await admin.query('CREATE TABLE other.log (id INT AUTO_INCREMENT PRIMARY KEY)');
});

after(async () => {
  await admin?.end();
  await server?.remove();
});

/** The server's binlog position and GTID state now, as a LogPosition of the source. */
async function serverNow(): Promise<LogPosition> {
  const [[status]] = (await admin!.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number | string }]];
  const [[{ gtid }]] = (await admin!.query('SELECT @@GLOBAL.gtid_binlog_pos AS gtid')) as unknown as [[{ gtid: string }]];
  const resume = { file: status.File, pos: Number(status.Position), gtid };
  return { position: boundaryPosition(resume), resume };
}

/** A source capturing `captured.*` streaming from the server's position now, with its cursor and items. */
async function streamCaptured(flow: FlowControl, onItem: (item: StreamItem) => void = () => {}) {
  const source = new MySqlSource({ name: 'boundary', url: server!.url(), serverId: randomServerId(), include: ['captured.*'], heartbeatIntervalMs: 0 });
  const cursor: StreamCursor = {};
  const items: StreamItem[] = [];
  const subscription: Subscription = source.stream(await source.openLog(), flow, cursor).subscribe({
    next: (item) => {
      items.push(item);
      onItem(item);
    },
  });
  const boundary = () => cursor.boundary!();
  const stop = async () => {
    subscription.unsubscribe();
    await source.close();
  };
  return { boundary, items, stop };
}

test('an idle stream\'s boundary reaches the server\'s binlog position after another database\'s transactions and after FLUSH BINARY LOGS', { timeout: 60_000 }, async () => {
  const stream = await streamCaptured(new FlowControl());
  try {
    const reaches = async (what: string) => {
      await eventually(`the boundary reaches the server's position ${what}`, async () => stream.boundary()?.position === (await serverNow()).position);
      assert.deepEqual(stream.boundary(), await serverNow());
    };
    await reaches('on start');
    await admin!.query('INSERT INTO other.log () VALUES (), ()');
    await admin!.query('INSERT INTO other.log () VALUES ()');
    await reaches('after another database\'s transactions');
    // The new binlog file starts with header events (format description, GTID list, binlog checkpoint) and nothing else.
    await admin!.query('FLUSH BINARY LOGS');
    await reaches('after FLUSH BINARY LOGS');
    assert.deepEqual(
      stream.items.map((item) => item.kind),
      ['commit'],
      'the rotation\'s heartbeat is all the stream emitted',
    );
  } finally {
    await stream.stop();
  }
});

test('the boundary is undefined while a transaction\'s changes wait for a paused flow, and then the position its commit carries', { timeout: 60_000 }, async () => {
  // A high-water mark of 1 with nothing released: the first change pauses the stream inside the transaction.
  const flow = new FlowControl(1, 0);
  let holding = true;
  const stream = await streamCaptured(flow, (item) => {
    if (holding && item.kind === 'change') flow.acquire();
  });
  try {
    await admin!.beginTransaction();
    await admin!.query('INSERT INTO captured.items VALUES (1)');
    await admin!.query('INSERT INTO captured.items VALUES (2)');
    await admin!.commit();
    await eventually('the first change is emitted', () => stream.items.length > 0);
    assert.equal(stream.boundary(), undefined, 'mid-transaction, the stream paused');
    assert.deepEqual(
      stream.items.map((item) => item.kind),
      ['change'],
    );

    holding = false;
    flow.release(flow.pending);
    await eventually('the boundary is back', () => stream.boundary() !== undefined);
    assert.deepEqual(
      stream.items.map((item) => item.kind),
      ['change', 'change', 'commit'],
    );
    assert.deepEqual(stream.boundary(), (stream.items[2] as Extract<StreamItem, { kind: 'commit' }>).position);
    assert.deepEqual(stream.boundary(), await serverNow());
  } finally {
    await stream.stop();
  }
});
