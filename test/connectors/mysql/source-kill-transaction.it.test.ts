/**
 * `cdc run` (MariaDB → Kafka → MariaDB copy in a scratch database) SIGKILLed while it streams one source
 * transaction of 100k inserts and 1000 updates, part of which is already in Kafka and in the copy: no token
 * is committed inside the transaction, so the restart streams all of it again; nothing is lost, and what
 * is written twice is absorbed by the sink's idempotent apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import type { BackgroundRun } from '../../cli/support/cli.ts';
import { scratchMariaDb } from '../support/targets.ts';
import { mysqlPipelineConfig, runPipeline, SOURCE, untilCopyEquals } from './cli-pipeline.ts';
import { withKafkaPipeline } from './kafka-pipeline.ts';
import { withSourceDatabase } from './source-fixture.ts';

const EXISTING = 1000;
const INSERTS = 100_000;
const NO_SUCH_TABLE = 1146;

test('SIGKILL inside a 100k-row source transaction while streaming: no token inside it; after the restart nothing is lost and the copy equals the source', { timeout: 240_000 }, async (t) => {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('mysql-kill-transaction', async (pipeline) => {
      const target = await scratchMariaDb('kill_transaction');
      const { file, config, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, targetUrl: target.url, chunkSize: 10_000 });
      const quoted = `\`${db}\`.bulk`;
      // Number(): the connections decode BIGINT differently (a string with the source's decoding options).
      const count = async (connection: mysql.Connection, name: string) => Number(((await connection.query(`SELECT COUNT(*) AS n FROM ${name}`)) as unknown as [[{ n: unknown }]])[0][0].n);
      // The sink creates the table with its first batch.
      const copied = () => count(target.connection, `\`${target.name}\`.bulk`).catch((error: { errno?: number }) => (error.errno === NO_SUCH_TABLE ? 0 : Promise.reject(error)));
      const runs: BackgroundRun[] = [];
      try {
        await admin.query(`CREATE TABLE ${quoted} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
        await admin.query(`INSERT INTO ${quoted} SELECT seq, 0, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${EXISTING}`);
        const first = runPipeline(file);
        runs.push(first);
        await first.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
        await pipeline.until('the snapshot is in the copy', async () => (await copied()) === EXISTING);
        const before = (await pipeline.tokens()).at(-1);
        assert.equal(before?.phase, 'streaming');

        await admin.beginTransaction();
        await admin.query(`INSERT INTO ${quoted} SELECT ${EXISTING} + seq, 0, CONCAT('bulk ', seq) FROM \`${db}\`.seq_1_to_${INSERTS}`);
        await admin.query(`UPDATE ${quoted} SET v = v + 1 WHERE id <= ${EXISTING}`);
        await admin.commit();
        // Killed once the copy holds part of the transaction: the source writes a transaction this large in
        // batches before its commit, and the sink applies them.
        await pipeline.until('a tenth of the transaction is in the copy', async () => (await copied()) >= EXISTING + INSERTS / 10);
        first.kill();
        await first.exited;
        const partial = await copied();
        t.diagnostic(`killed with ${partial - EXISTING} of the transaction's ${INSERTS} inserts in the copy`);
        assert.ok(partial < EXISTING + INSERTS, 'the kill came before the whole transaction was applied');
        // A heartbeat may have moved the token past other tests' transactions on the shared server, never into this one.
        const latest = (await pipeline.tokens()).at(-1)!;
        const firstChange = (await pipeline.changes(SOURCE)).find((event) => !event.source.snapshot)!;
        assert.ok(latest.position < firstChange.source.position, `no token was committed inside the transaction: token ${latest.position}, its first change ${firstChange.source.position}`);

        const second = runPipeline(file);
        runs.push(second);
        await untilCopyEquals(config, async () => (await copied()) === EXISTING + INSERTS);
        assert.equal(await second.stop(), 0, second.output);

        // In the change topic: every change of the transaction at least once (nothing lost), the part the
        // killed process had written twice; the copy, equal to the source, absorbed the repeats.
        const events = (await pipeline.changes(SOURCE)).filter((event) => !event.source.snapshot);
        const txIds = new Set(events.map((event) => event.source.txId));
        assert.equal(txIds.size, 1, `one source transaction: ${[...txIds].join(', ')}`);
        const distinct = new Set(events.map((event) => `${event.op} ${String(event.key.id)}`));
        assert.equal(distinct.size, INSERTS + EXISTING);
        for (let id = 1; id <= EXISTING + INSERTS; id++) assert.ok(distinct.has(`${id <= EXISTING ? 'u' : 'c'} ${id}`), `the change of row ${id} is in the change topic`);
        assert.ok(events.length > INSERTS + EXISTING, `${events.length - INSERTS - EXISTING} changes were written twice`);
        t.diagnostic(`${events.length} change events in the topic for ${INSERTS + EXISTING} changes of the transaction`);
      } finally {
        for (const run of runs) run.kill();
        await Promise.all(runs.map((run) => run.exited));
        await target.drop();
        remove();
      }
    });
  });
});
