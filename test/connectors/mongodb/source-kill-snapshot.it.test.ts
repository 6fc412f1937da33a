/**
 * `cdc run` (MongoDB source → Kafka → MongoDB sink in another database) SIGKILLed in the middle of the
 * snapshot of 200k documents while inserts, updates and deletes run: the restarted process resumes the
 * snapshot after the last chunk its token recorded, and the copy ends equal to the source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableSnapshotProgress } from '../../../topology/token.ts';
import { deletePipelineTopics, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde } from '../support/repartition-topic.ts';
import { scratchMongo } from '../support/targets.ts';
import { Writer, insertOrders, mongoPipelineConfig, runPipeline, type Order } from './cli-pipeline.ts';
import { TopicTail, idOf, tokensOf, untilCopyEquals } from './pipeline-harness.ts';
import { freshDatabase } from './source-harness.ts';

test('SIGKILL during the snapshot of 200k documents under writes: the restart resumes after the last finished chunk and the copy equals the source', { timeout: 300_000 }, async () => {
  const source = await freshDatabase('mongo_kill_snapshot');
  const target = await scratchMongo('kill_snapshot_copy');
  const orders = source.db.collection<Order>('orders');
  const total = 200_000;
  await insertOrders(orders, total);
  const id = uniquePipeline('mongo-kill-snapshot');
  const config = mongoPipelineConfig({ pipeline: id, url: source.url, sourceDatabase: source.name, targetDatabase: target.name, chunkSize: 5000 });
  const writer = new Writer(orders, total);
  const first = runPipeline(config.file);
  let second: ReturnType<typeof runPipeline> | undefined;
  let tail: TopicTail | undefined;
  try {
    await first.waitForLog('the snapshot starts', (line) => line.msg === 'snapshot started');
    const tokenTail = await TopicTail.start([`${id}.tokens`, `${id}.m.changes`]);
    tail = tokenTail;
    const progressOf = () => tokensOf(tokenTail.of(`${id}.tokens`)).at(-1)?.snapshot?.orders;
    // Killed as soon as the token topic records finished chunks, with most of the snapshot still to read.
    const seen = await tail.until('two finished chunks of orders in the token topic', () => {
      const progress = progressOf();
      return progress !== undefined && progress.chunks >= 2 ? progress : undefined;
    });
    first.kill();
    await first.exited;
    assert.ok(!seen.done, 'the kill came before the snapshot finished');

    const restartedAt = Date.now();
    second = runPipeline(config.file);
    const resumed = await second.waitForLog('the snapshot resumed', (line) => line.msg === 'snapshot resumed' && line.table === 'orders');
    await second.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming' && line.source === 'm');
    const inserted = await writer.stop();
    assert.ok(inserted.length > 0);

    await untilCopyEquals(source.db, target.client.db(target.name), 'orders');

    assert.equal(await second.stop(), 0, second.output);
    await tail.caughtUp();

    // The newest token the killed process committed (its producer stamped it before the restart) is where the
    // restart resumed: after its last finished chunk.
    const last = tokensOf(tail.of(`${id}.tokens`).filter((record) => record.timestamp < restartedAt)).at(-1)?.snapshot?.orders as TableSnapshotProgress;
    assert.ok(last.chunks >= seen.chunks && !last.done && last.rows === last.chunks * 5000, JSON.stringify(last));
    assert.deepEqual(
      { source: resumed.source, chunksSkipped: resumed.chunksSkipped, rowsSkipped: resumed.rowsSkipped },
      { source: 'm', chunksSkipped: last.chunks, rowsSkipped: last.rows },
    );
    // The r events the restarted process wrote read on after that chunk's last _id: no finished chunk is read again.
    const records = tail.of(`${id}.m.changes`);
    const events = await tail.events(`${id}.m.changes`, avroSerde(id));
    const resumedReads = events.filter((event, i) => event.op === 'r' && records[i]!.timestamp >= restartedAt).map((event) => idOf(event.key._id as string));
    const lastId = idOf(last.lastKey!);
    assert.ok(resumedReads.length > 0 && resumedReads.every((readId) => readId > lastId), `the resumed snapshot reads only _ids after ${lastId}`);
    assert.ok(resumedReads.length <= total + inserted.length - last.rows, 'the resumed snapshot reads no more than what was left');
  } finally {
    await writer.stop();
    first.kill();
    second?.kill();
    await tail?.stop();
    await deletePipelineTopics(id);
    config.remove();
    await target.drop();
    await source.drop();
  }
});

