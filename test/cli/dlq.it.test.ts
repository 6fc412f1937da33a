/**
 * Dead letters end to end, through the CLI against the stack: the MariaDB target table is made by hand
 * with a column narrower than the source's (the sink, with createTables on, only adds what is missing),
 * so `cdc run` dead-letters the rows that do not fit. `cdc dlq list` shows them with the reason; one
 * replayed before the fix fails again and goes back with its new reason; the column is widened and
 * `cdc dlq replay` applies the rest, except a row updated at the source since (the target holds a newer
 * version of it, which the old dead letter must not overwrite). `cdc verify` finds the copy equal, and a
 * second replay changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { topics } from '../../topology/topics.ts';
import { scratchMariaDb } from '../connectors/support/targets.ts';
import { mysqlPipelineConfig, runPipeline } from '../connectors/mysql/cli-pipeline.ts';
import { withKafkaPipeline } from '../connectors/mysql/kafka-pipeline.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';
import { eventually } from '../topology/support/eventually.ts';
import { cdc } from './support/cli.ts';
import type { DeadLetterView } from '../../cli/commands/dlq.ts';

const LONG = (id: number) => `a name far too long for eight characters, row ${id}`;

test('rows a narrow target column refuses are listed with their reason, replayed once it is widened, and an older one stays out', { timeout: 240_000 }, async () => {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('dlq', async (pipeline) => {
      const target = await scratchMariaDb('dlq');
      // createTables off: a managed target would widen its column to the source's instead of refusing rows.
      const { file, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, chunkSize: 100, sinks: [`{ name: copy, type: mysql, url: '${target.url}', createTables: false }`] });
      const names = async (connection: mysql.Connection, table: string) =>
        new Map(((await connection.query(`SELECT id, name FROM ${table} ORDER BY id`)) as unknown as [Array<{ id: number; name: string }>])[0].map((row) => [row.id, row.name]));
      const copy = `\`${target.name}\`.people`;
      await admin.query(`CREATE TABLE \`${db}\`.people (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)`);
      await admin.query(`INSERT INTO \`${db}\`.people VALUES (1, 'ann'), (2, 'bob'), (3, 'cy'), (4, ?), (5, ?), (6, ?)`, [LONG(4), LONG(5), LONG(6)]);
      await target.connection.query(`CREATE TABLE ${copy} (id INT PRIMARY KEY, name VARCHAR(8) NOT NULL)`);
      const list = async (...args: string[]) => {
        const result = await cdc(['dlq', 'list', '-c', file, '--json', ...args]);
        assert.equal(result.code, 0, result.stderr);
        return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as DeadLetterView);
      };
      const run = runPipeline(file);
      try {
        await run.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
        let letters: DeadLetterView[] = [];
        await eventually('three rows in the copy and three dead letters', async () => (await names(target.connection, copy)).size === 3 && (letters = await list()).length === 3, 120_000);

        // What `dlq list` shows of each: stage, reason, table and key, origin, time, the decoded event.
        assert.deepEqual([...(await names(target.connection, copy)).keys()], [1, 2, 3]);
        assert.deepEqual(letters.map((letter) => letter.key).sort((a, b) => Number(a!.id) - Number(b!.id)), [{ id: 4 }, { id: 5 }, { id: 6 }]);
        for (const letter of letters) {
          assert.equal(letter.stage, 'sink.copy');
          assert.match(letter.reason, /Data too long for column 'name'/);
          assert.equal(letter.table, `${db}.people`);
          assert.equal(letter.origin?.topic, topics.repartition(pipeline.id));
          assert.match(letter.origin?.offset ?? '', /^\d+$/);
          assert.ok(!Number.isNaN(Date.parse(letter.time)));
          assert.equal(letter.event?.op, 'r');
          assert.deepEqual(letter.event?.after, { id: letter.key!.id, name: LONG(Number(letter.key!.id)) });
        }
        const text = await cdc(['dlq', 'list', '-c', file]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /Data too long for column 'name'/);
        assert.match(text.stdout, /3 dead letters in /);
        const future = await cdc(['dlq', 'list', '-c', file, '--since', new Date(Date.now() + 3_600_000).toISOString()]);
        assert.match(future.stdout, /^0 dead letters in .* since /m, future.stderr);
        const idOf = (id: number) => letters.find((letter) => letter.key!.id === id)!.id;

        // Replayed before the cause is fixed, a dead letter fails again: back to the topic, replaying the first.
        const early = await cdc(['dlq', 'replay', '-c', file, '--offsets', idOf(5)]);
        assert.equal(early.code, 1, early.stdout + early.stderr);
        assert.match(early.stdout, /^replayed 1 dead letter: applied 0, skipped as older 0, failed again 1$/m);
        const again = (await list()).filter((letter) => letter.replayOf === idOf(5));
        assert.equal(again.length, 1);
        assert.match(again[0]!.reason, /Data too long for column 'name'/);
        assert.deepEqual(again[0]!.origin, letters.find((letter) => letter.id === idOf(5))!.origin);

        // Row 6 changes at the source after it was dead-lettered: the target gets the newer version.
        await admin.query(`UPDATE \`${db}\`.people SET name = 'six' WHERE id = 6`);
        await eventually('the update of row 6 in the copy', async () => (await names(target.connection, copy)).get(6) === 'six', 60_000);

        await target.connection.query(`ALTER TABLE ${copy} MODIFY name VARCHAR(64) NOT NULL`);
        const replay = await cdc(['dlq', 'replay', '-c', file]);
        assert.equal(replay.code, 0, replay.stdout + replay.stderr);
        // Rows 4 and 5 (its copy stands for the first letter of 5), row 6 older than the target's.
        assert.match(replay.stdout, /^replayed 3 dead letters: applied 2, skipped as older 1, failed again 0$/m);
        assert.deepEqual(await names(target.connection, copy), new Map([[1, 'ann'], [2, 'bob'], [3, 'cy'], [4, LONG(4)], [5, LONG(5)], [6, 'six']]));
        const verify = await cdc(['verify', '-c', file]);
        assert.equal(verify.code, 0, verify.stdout + verify.stderr);

        const twice = await cdc(['dlq', 'replay', '-c', file]);
        assert.equal(twice.code, 0, twice.stdout + twice.stderr);
        assert.match(twice.stdout, /^replayed 3 dead letters: applied 0, skipped as older 3, failed again 0$/m);
        assert.equal((await list()).length, 4);
        assert.equal((await cdc(['verify', '-c', file])).code, 0);
        assert.equal(await run.stop(), 0, run.output);
      } finally {
        run.kill();
        await run.exited;
        await target.drop();
        remove();
      }
    });
  });
});
