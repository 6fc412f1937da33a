/**
 * `cdc run` from the stack's MariaDB into a MariaDB and a PostgreSQL target (managed tables): columns
 * widened at the source while streaming (VARCHAR longer, INT → BIGINT, DECIMAL precision) widen in both
 * targets before the rows that need them, which all arrive, none dead-lettered; a narrowing then stops
 * the pipeline with one line naming the table, the column, the old and the new type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletePipelineTopics, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { mysqlPipelineConfig, runPipeline } from '../mysql/cli-pipeline.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { withSourceDatabase } from '../mysql/source-fixture.ts';
import { scratchMariaDb, scratchPostgres } from '../support/targets.ts';
import { deadLetters } from '../../faults/support.ts';

test('widened source columns widen both targets while streaming, no row is dead-lettered; a narrowing stops the pipeline with one line', { timeout: 300_000 }, async () => {
  await withSourceDatabase(async ({ db, admin }) => {
    const pipeline = uniquePipeline('widen');
    const mariadb = await scratchMariaDb('widen');
    const postgres = await scratchPostgres('widen');
    const { file, remove } = mysqlPipelineConfig({
      pipeline,
      db,
      targetUrl: mariadb.url,
      chunkSize: 100,
      sinks: [`{ name: maria, type: mysql, url: '${mariadb.url}' }`, `{ name: pg, type: postgres, url: '${postgres.url}', schema: ${postgres.name} }`],
    });
    const table = `\`${db}\`.items`;
    // `cdc verify` compares MariaDB targets only: the rows, as text, of the source and of both targets.
    const rowsOf = async (query: () => Promise<unknown[]>) => JSON.stringify(await query().catch((error: unknown) => String(error)));
    const columns = 'id, name, CAST(n AS CHAR) AS n, CAST(amount AS CHAR) AS amount';
    const copies = async () => [
      await rowsOf(async () => ((await admin.query(`SELECT ${columns} FROM ${table} ORDER BY id`)) as unknown as [unknown[]])[0]),
      await rowsOf(async () => ((await mariadb.connection.query(`SELECT ${columns} FROM items ORDER BY id`)) as unknown as [unknown[]])[0]),
      await rowsOf(async () => (await postgres.client.query(`SELECT id, name, n::text AS n, amount::text AS amount FROM "${postgres.name}".items ORDER BY id`)).rows),
    ];
    const untilCopied = async (what: string) => {
      let last: string[] = [];
      await eventually(`${what}: both targets equal the source`, async () => {
        last = await copies();
        if (new Set(last).size === 1) return true;
        await new Promise((resolve) => setTimeout(resolve, 500));
        return false;
      }, 180_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${last.join('\n')}\n${running.output}`);
      });
    };
    await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, n INT NOT NULL, amount DECIMAL(6,2) NOT NULL)`);
    await admin.query(`INSERT INTO ${table} VALUES (1, 'one', 1, 1.50), (2, 'two', -2, -2.25), (3, 'three', 3, 9999.99)`);
    const running = runPipeline(file);
    try {
      await running.waitForLog('the source streams', (line) => line.msg === 'streaming');
      await untilCopied('the snapshot');

      await admin.query(`ALTER TABLE ${table} MODIFY name VARCHAR(200) NOT NULL, MODIFY n BIGINT NOT NULL, MODIFY amount DECIMAL(12,2) NOT NULL`);
      const long = 'x'.repeat(150);
      await admin.query(`INSERT INTO ${table} VALUES (4, ?, 1099511627776, 1234567890.12), (5, 'short', -9007199254740993, -0.01)`, [long]);
      await admin.query(`UPDATE ${table} SET name = CONCAT(?, name), n = n * 4294967296, amount = amount * 100000 WHERE id <= 3`, [long]);
      await untilCopied('the rows that need the wider types');

      const [mariaTypes] = (await mariadb.connection.query(
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME IN ('name', 'n', 'amount') ORDER BY COLUMN_NAME",
      )) as unknown as [Array<{ name: string; type: string }>];
      assert.deepEqual(mariaTypes.map(({ name, type }) => `${name} ${type.replace(/\(\d+\)$/, (width) => (name === 'n' ? '' : width))}`), ['amount decimal(12,2)', 'n bigint', 'name varchar(200)']);
      const pgTypes = await postgres.client.query(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace
          WHERE s.nspname = $1 AND c.relname = 'items' AND a.attname IN ('name', 'n', 'amount') ORDER BY a.attname`,
        [postgres.name],
      );
      assert.deepEqual(pgTypes.rows.map(({ name, type }) => `${String(name)} ${String(type)}`), ['amount numeric(12,2)', 'n bigint', 'name character varying(200)']);
      const widened = running.logs.filter((line) => line.msg === 'target column widened').map((line) => `${String(line.sink)} ${String(line.column)} ${String(line.to)}`);
      assert.deepEqual(widened.sort(), ['maria amount decimal(12, 2)', 'maria n bigint', 'maria name varchar(200) CHARACTER SET utf8mb4', 'pg amount numeric(12,2)', 'pg n bigint', 'pg name varchar(200)'].sort());
      assert.deepEqual(await deadLetters(pipeline), [], 'no record dead-lettered');
      assert.equal(running.logs.filter((line) => line.msg === 'record dead-lettered').length, 0);

      // A narrowing: the sinks never narrow a column; the first to meet it stops the pipeline.
      await admin.query(`ALTER TABLE ${table} MODIFY name VARCHAR(180) NOT NULL`);
      await admin.query(`INSERT INTO ${table} VALUES (6, 'after the narrowing', 6, 6)`);
      assert.equal(await running.exited, 1, running.output);
      // One error log line (JSON) and the CLI's one line on stderr: the same sentence.
      const logged = running.logs.filter((line) => String(line.err ?? '').includes('cannot follow'));
      const printed = running.output.split('\n').filter((line) => line.startsWith('cdc: ') && line.includes('cannot follow'));
      assert.deepEqual([logged.length, printed.length], [1, 1], running.output);
      const stop = new RegExp(`cannot follow ${db}\\.items: target column items\\.name is (varchar|character varying)\\(200\\), the source's now maps to varchar\\(180\\).* \\(shorter\\); .*Alter the target column yourself`);
      assert.match(printed[0]!, stop);
      assert.deepEqual(await deadLetters(pipeline), [], 'still no record dead-lettered');
    } finally {
      running.kill();
      await running.exited;
      await mariadb.drop();
      await postgres.drop();
      remove();
      await deletePipelineTopics(pipeline);
    }
  });
});
