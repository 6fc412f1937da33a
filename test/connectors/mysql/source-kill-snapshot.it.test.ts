/**
 * `cdc run` (MariaDB → Kafka → MariaDB copy in a scratch database) SIGKILLed in the middle of the snapshot
 * of a million rows while inserts, updates, deletes and key changes run on the source: the restarted
 * process resumes the snapshot after the last chunk its token recorded, and the copy ends equal to the source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../../connectors/mysql/connection.ts';
import type { SourceToken } from '../../../topology/token.ts';
import type { BackgroundRun } from '../../cli/support/cli.ts';
import { scratchMariaDb } from '../support/targets.ts';
import { counterOf, mysqlPipelineConfig, runPipeline, SOURCE, SourceWriter, untilCopyEquals } from './cli-pipeline.ts';
import { withKafkaPipeline } from './kafka-pipeline.ts';
import { withSourceDatabase } from './source-fixture.ts';

const ROWS = 1_000_000;
const CHUNK = 50_000;

test('SIGKILL during the snapshot of 1M rows under writes: the restart resumes after the last finished chunk and the copy equals the source', { timeout: 300_000 }, async (t) => {
  await withSourceDatabase(async ({ db, url, admin }) => {
    await withKafkaPipeline('mysql-kill-snapshot', async (pipeline) => {
      const target = await scratchMariaDb('kill_snapshot');
      const writerConnection = await mysql.createConnection(connectionOptions(url));
      const { file, config, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, targetUrl: target.url, chunkSize: CHUNK });
      const table = `${db}.big`;
      const quoted = `\`${db}\`.big`;
      const progressOf = (token: SourceToken | undefined) => token?.snapshot?.[table];
      let writer: SourceWriter | undefined;
      const runs: BackgroundRun[] = [];
      try {
        await admin.query(`CREATE TABLE ${quoted} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
        await admin.query(`INSERT INTO ${quoted} SELECT seq, 0, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${ROWS}`);
        writer = new SourceWriter(writerConnection, quoted, ROWS);
        const first = runPipeline(file);
        runs.push(first);
        // Killed as soon as the token topic records two finished chunks, with most of the snapshot still to read.
        const seen = progressOf(await pipeline.untilToken('two finished chunks of big in the token topic', (token) => (progressOf(token)?.chunks ?? 0) >= 2))!;
        first.kill();
        await first.exited;
        assert.ok(!seen.done, 'the kill came before the snapshot finished');

        // What the restart will find: the newest committed token (read_committed: a transaction the killed
        // process left open is not seen).
        const stored = progressOf((await pipeline.tokens()).at(-1));
        assert.ok(stored !== undefined && stored.chunks >= seen.chunks && !stored.done && stored.rows === stored.chunks * CHUNK, JSON.stringify(stored));

        const second = runPipeline(file);
        runs.push(second);
        const resumed = await second.waitForLog('the snapshot resumed', (line) => line.msg === 'snapshot resumed');
        t.diagnostic(`the restart skipped ${String(resumed.chunksSkipped)} finished chunks (${String(resumed.rowsSkipped)} of ${ROWS} rows) of ${table}`);
        assert.deepEqual(
          { source: resumed.source, table: resumed.table, chunksSkipped: resumed.chunksSkipped, rowsSkipped: resumed.rowsSkipped },
          { source: SOURCE, table, chunksSkipped: stored.chunks, rowsSkipped: stored.rows },
        );
        // 900k rows through source, repartition and sink in one process, at 10k rows/s when another test file runs beside it.
        await second.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming', 200_000);
        // The restarted process's own count of the rows its snapshot read: those after the last finished
        // chunk (and the rows the writer added meanwhile), not the whole table again.
        const readAfterRestart = await counterOf(second, 'cdc_snapshot_rows_total', { source: SOURCE, table });
        const rounds = await writer.stop();
        assert.ok(
          readAfterRestart > 0 && readAfterRestart <= ROWS - stored.rows + 2 * rounds,
          `the restart read ${readAfterRestart} rows; ${ROWS - stored.rows} were left, the writer added at most ${2 * rounds}`,
        );

        // Number(): the connections decode BIGINT differently (a string with the source's decoding options).
        const count = async (connection: mysql.Connection, name: string) => Number(((await connection.query(`SELECT COUNT(*) AS n FROM ${name}`)) as unknown as [[{ n: unknown }]])[0][0].n);
        await untilCopyEquals(config, async () => (await count(admin, quoted)) === (await count(target.connection, `\`${target.name}\`.big`)));
        assert.equal(await second.stop(), 0, second.output);
      } finally {
        await writer?.stop();
        for (const run of runs) run.kill();
        await Promise.all(runs.map((run) => run.exited));
        await writerConnection.end();
        await target.drop();
        remove();
      }
    });
  });
});
