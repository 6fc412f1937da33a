/**
 * A healthy `cdc run` gives an operator nothing to act on: what a healthy cluster makes KafkaJS retry (a
 * group coordinator still loading, a transaction still committing) is logged at debug and counted, not
 * warned about. So a clean run of a small MariaDB → Kafka → MariaDB pipeline, snapshot then streamed
 * changes, logs no line at warn level or above, from its start to its SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { pino } from 'pino';
import { scratchMariaDb } from '../connectors/support/targets.ts';
import { mysqlPipelineConfig, runPipeline, untilCopyEquals } from '../connectors/mysql/cli-pipeline.ts';
import { withKafkaPipeline } from '../connectors/mysql/kafka-pipeline.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';

const ROWS = 300;
const NO_SUCH_TABLE = 1146;

test('a clean cdc run of a small pipeline logs no line at warn level or above', { timeout: 180_000 }, async () => {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('quiet-run', async (pipeline) => {
      const target = await scratchMariaDb('quiet_run');
      const { file, config, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, targetUrl: target.url, chunkSize: 100 });
      const source = `\`${db}\`.items`;
      const count = async (connection: mysql.Connection, table: string) => Number(((await connection.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [[{ n: unknown }]])[0][0].n);
      // The sink creates the table with its first batch.
      const copied = () => count(target.connection, `\`${target.name}\`.items`).catch((error: { errno?: number }) => (error.errno === NO_SUCH_TABLE ? 0 : Promise.reject(error)));
      await admin.query(`CREATE TABLE ${source} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)`);
      await admin.query(`INSERT INTO ${source} SELECT seq, 0, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${ROWS}`);
      const run = runPipeline(file);
      try {
        await run.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
        await admin.query(`INSERT INTO ${source} VALUES (${ROWS + 1}, 0, 'streamed')`);
        await admin.query(`UPDATE ${source} SET v = v + 1 WHERE id <= 10`);
        await admin.query(`DELETE FROM ${source} WHERE id = 20`);
        await admin.query(`UPDATE ${source} SET id = ${ROWS + 2} WHERE id = 30`);
        await untilCopyEquals(config, async () => (await copied()) === (await count(admin, source)));
        assert.equal(await run.stop(), 0, run.output);

        const loud = logLines(run.output).filter((line) => levelOf(line) >= pino.levels.values.warn!);
        assert.deepEqual(loud, [], `lines at warn or above:\n${loud.map((line) => JSON.stringify(line)).join('\n')}`);
      } finally {
        run.kill();
        await run.exited;
        await target.drop();
        remove();
      }
    });
  });
});

/** The JSON log lines of stdout and stderr; other lines (a progress bar, a Node notice) are not log lines. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((text) => {
    try {
      const line: unknown = JSON.parse(text);
      return typeof line === 'object' && line !== null ? [line as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** pino's number for a line's level, which the CLI writes as its label. */
function levelOf(line: Record<string, unknown>): number {
  return typeof line.level === 'number' ? line.level : (pino.levels.values[String(line.level)] ?? Infinity);
}
