/**
 * `cdc snapshot` against the stack's Kafka and a `cdc run` of a MariaDB → MariaDB pipeline, both in child
 * processes: a request sent before any process runs the source times out saying so (exit 5) and is
 * answered once the source starts; a request the running source refuses exits 4 after printing its
 * notifications, read from the real notifications topic; `--wait none` returns once the request is sent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNotification } from '../../topology/notifications.ts';
import type { SnapshotRequestResult } from '../../topology/snapshot-request.ts';
import { topics } from '../../topology/topics.ts';
import { scratchMariaDb } from '../connectors/support/targets.ts';
import { mysqlPipelineConfig, runPipeline, SOURCE } from '../connectors/mysql/cli-pipeline.ts';
import { withKafkaPipeline } from '../connectors/mysql/kafka-pipeline.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';
import { cdc } from './support/cli.ts';

test('cdc snapshot: no answer without a running source (exit 5), the answer once it runs, a refusal (exit 4), --wait none', { timeout: 180_000 }, async () => {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('cli-snapshot', async (pipeline) => {
      const target = await scratchMariaDb('cli_snapshot');
      const { file, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, targetUrl: target.url, chunkSize: 100 });
      await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, v INT NOT NULL)`);
      await admin.query(`INSERT INTO \`${db}\`.items SELECT seq, 0 FROM \`${db}\`.seq_1_to_50`);
      const request = (...args: string[]) => cdc(['snapshot', '--config', file, '--source', SOURCE, ...args]);
      try {
        const early = await request('--table', `${db}.items`, '--timeout', '2', '--json');
        assert.equal(early.code, 5, early.stderr);
        assert.equal(early.stderr, `cdc: no process running source ${SOURCE} answered within 2 s; the request stays on ${topics.sourceControl(pipeline.id)} and is taken when the source starts\n`);
        const unanswered = JSON.parse(early.stdout.trim().split('\n').at(-1)!) as SnapshotRequestResult;
        assert.equal(unanswered.status, 'timed-out');

        const run = runPipeline(file);
        try {
          await run.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
          await pipeline.until('the source answers the request sent before it ran', async () =>
            (await pipeline.read(topics.notifications(pipeline.id))).some((record) => {
              const notification = parseNotification(record.value);
              return notification !== undefined && 'id' in notification && notification.id === unanswered.request.id && notification.type !== 'incremental-requested';
            }),
          );

          const refused = await request('--table', `${db}.nope`);
          assert.equal(refused.code, 4, refused.stdout + refused.stderr);
          assert.match(refused.stderr, new RegExp(`^cdc: source ${SOURCE} refused request [0-9a-f-]{36}: .+\\n$`));
          const id = /refused request (\S+):/.exec(refused.stderr)![1]!;
          assert.match(refused.stdout, new RegExp(`^\\S+Z  ${SOURCE}  incremental-requested  id=${id}  tables=${db}\\.nope\\n\\S+Z  ${SOURCE}  incremental-refused  id=${id}  tables=${db}\\.nope  reason=.+\\n$`));

          const sent = await request('--table', `${db}.items`, '--wait', 'none');
          assert.equal(sent.code, 0, sent.stderr);
          assert.match(sent.stdout, new RegExp(`^request \\S+ is on ${pipeline.id}\\.sources: the process running source ${SOURCE} takes it; its answer comes on ${pipeline.id}\\.notifications\\n$`));
          assert.equal(await run.stop(), 0, run.output);
        } finally {
          run.kill();
          await run.exited;
        }
      } finally {
        await target.drop();
        remove();
      }
    });
  });
});
