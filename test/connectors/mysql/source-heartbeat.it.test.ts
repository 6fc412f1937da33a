/**
 * Heartbeats (topology/heartbeat.ts) on a private MariaDB (private-mariadb.ts), so its binlogs can be
 * purged without purging other tests' positions: while the captured table is idle and another database
 * of the server is written, the token moves past those writes; after FLUSH + PURGE BINARY LOGS the
 * pipeline restarts from it and streams on without a snapshot. The source runs with snapshot: initial, so
 * a token whose position was purged fails the restart (PositionLostError) instead of re-snapshotting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { MySqlSource } from '../../../connectors/mysql/source.ts';
import { binlogFileIndex, readResume } from '../../../connectors/mysql/position.ts';
import type { SourceToken } from '../../../topology/token.ts';
import { purgeBinaryLogsTo } from '../../faults/support.ts';
import { PrivateMariaDb } from '../support/private-mariadb.ts';
import { withKafkaPipeline } from './kafka-pipeline.ts';
import { randomServerId } from './source-fixture.ts';

const SOURCE = 'idle';
let server: PrivateMariaDb | undefined;

before(async () => {
  server = await PrivateMariaDb.start('heartbeat');
});

after(async () => {
  await server?.remove();
});

interface BinlogAt {
  file: string;
  pos: number;
}

/** Whether the token resumes at or after `at`. */
function resumesFrom(token: SourceToken | undefined, at: BinlogAt): boolean {
  if (token === undefined) return false;
  const { file, pos } = readResume(token.resume);
  return binlogFileIndex(file) > binlogFileIndex(at.file) || (file === at.file && pos >= at.pos);
}

test('an idle captured table on a busy server: heartbeats move the token past the other database, so after PURGE BINARY LOGS a restart streams on without a snapshot', { timeout: 240_000 }, async () => {
  const admin = await mysql.createConnection(server!.url());
  const binlogNow = async (): Promise<BinlogAt> => {
    const [[status]] = (await admin.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number | string }]];
    return { file: status.File, pos: Number(status.Position) };
  };
  const writeElsewhere = () => admin.query('INSERT INTO busy.log (v) VALUES (1)');
  const source = () => new MySqlSource({ name: SOURCE, url: server!.url(), serverId: randomServerId(), include: ['captured.*'], heartbeatIntervalMs: 500 });
  try {
    await admin.query('CREATE DATABASE captured');
    await admin.query('CREATE DATABASE busy');
    await admin.query('CREATE TABLE captured.items (id INT PRIMARY KEY, v INT NOT NULL)');
    await admin.query('INSERT INTO captured.items VALUES (1, 1), (2, 2)');
    await admin.query('CREATE TABLE busy.log (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)');

    await withKafkaPipeline('mysql-heartbeat', async (pipeline) => {
      const first = await pipeline.start(source(), { snapshot: 'initial' });
      await pipeline.untilToken('the source streams', (token) => token.phase === 'streaming');
      for (let round = 0; round < 20; round++) await writeElsewhere();
      const written = await binlogNow();
      // The writes go on while waiting: a heartbeat is a position without captured changes, once its interval is over.
      await pipeline.until('the token moved past the other database\'s writes', async () => {
        await writeElsewhere();
        return resumesFrom((await pipeline.tokens()).at(-1), written);
      });
      const heartbeats = (await first.metrics.registry.getSingleMetric('cdc_source_heartbeats_total')!.get()).values;
      assert.ok(heartbeats.some((sample) => sample.labels.source === SOURCE && sample.value > 0), JSON.stringify(heartbeats));

      await admin.query('FLUSH BINARY LOGS');
      const current = await binlogNow();
      await pipeline.until(`the token moved into ${current.file}`, async () => {
        await writeElsewhere();
        return resumesFrom((await pipeline.tokens()).at(-1), current);
      });
      await purgeBinaryLogsTo(admin, current.file);
      await first.stop();
      const snapshotRows = (await pipeline.changes(SOURCE)).filter((event) => event.op === 'r').length;
      assert.equal(snapshotRows, 2);

      // A purged position would fail this start: pipeline.until rejects with the topology's error.
      await pipeline.start(source(), { snapshot: 'initial' });
      await admin.query('INSERT INTO captured.items VALUES (3, 3)');
      await pipeline.until('the new row arrives', async () => (await pipeline.changes(SOURCE)).some((event) => event.op === 'c' && event.key.id === 3));
      const events = await pipeline.changes(SOURCE);
      assert.equal(events.filter((event) => event.op === 'r').length, snapshotRows, 'no snapshot after the restart: the token\'s position was still on the server');
      assert.deepEqual(events.filter((event) => !event.source.snapshot).map((event) => `${event.op} ${String(event.key.id)}`), ['c 3']);
    });
  } finally {
    await admin.query('DROP DATABASE IF EXISTS captured').catch(() => undefined);
    await admin.query('DROP DATABASE IF EXISTS busy').catch(() => undefined);
    await admin.end();
  }
});
