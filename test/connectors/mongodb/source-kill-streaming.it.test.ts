/**
 * `cdc run` (MongoDB source → Kafka → MongoDB sink in another database) SIGKILLed while it streams under
 * inserts, updates and deletes: the restarted process streams on from the stored token, and nothing
 * written before, during or after the kill is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletePipelineTopics, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde } from '../support/repartition-topic.ts';
import { scratchMongo } from '../support/targets.ts';
import { Writer, insertOrders, mongoPipelineConfig, runPipeline, type Order } from './cli-pipeline.ts';
import { TopicTail, idOf, tokensOf, untilCopyEquals } from './pipeline-harness.ts';
import { freshDatabase } from './source-harness.ts';

test('SIGKILL while streaming under writes: the restart streams on from the stored token and loses nothing', { timeout: 240_000 }, async () => {
  const source = await freshDatabase('mongo_kill_streaming');
  const target = await scratchMongo('kill_streaming_copy');
  const orders = source.db.collection<Order>('orders');
  const total = 20_000;
  await insertOrders(orders, total);
  const id = uniquePipeline('mongo-kill-streaming');
  const config = mongoPipelineConfig({ pipeline: id, url: source.url, sourceDatabase: source.name, targetDatabase: target.name, chunkSize: 5000 });
  const tokenTopic = `${id}.tokens`;
  const changeTopic = `${id}.m.changes`;
  const writer = new Writer(orders, total);
  const first = runPipeline(config.file);
  let second: ReturnType<typeof runPipeline> | undefined;
  let tail: TopicTail | undefined;
  try {
    const streamingFrom = (await first.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming' && line.source === 'm')).position as string;
    const tokens = await TopicTail.start([tokenTopic, changeTopic]);
    tail = tokens;
    // Killed once the stream has committed tokens for changes beyond its start, with writes still running.
    await tokens.until('a streaming token past the snapshot position', () =>
      tokensOf(tokens.of(tokenTopic)).some((token) => token.phase === 'streaming' && token.position > streamingFrom) ? true : undefined,
    );
    first.kill();
    await first.exited;
    const insertedBeforeRestart = writer.inserted.length;

    const restartedAt = Date.now();
    second = runPipeline(config.file);
    const resumed = await second.waitForLog('the restart streams', (line) => line.msg === 'streaming' && line.source === 'm');
    const resumedFrom = resumed.position as string;
    await tokens.until('a token of the restarted stream', () =>
      tokensOf(tokens.of(tokenTopic)).some((token) => token.phase === 'streaming' && token.position > resumedFrom) ? true : undefined,
    );
    const inserted = await writer.stop();
    await untilCopyEquals(source.db, target.client.db(target.name), 'orders');
    assert.equal(await second.stop(), 0, second.output);

    await tokens.caughtUp();
    // The newest token the killed process committed (its producer stamped it before the restart) is where the
    // restart streamed from, with no snapshot.
    const stored = tokensOf(tokens.of(tokenTopic).filter((record) => record.timestamp < restartedAt)).at(-1);
    assert.equal(stored?.phase, 'streaming');
    assert.ok(stored.position > streamingFrom);
    assert.equal(resumedFrom, stored.position);
    const records = tokens.of(changeTopic);
    const events = await tokens.events(changeTopic, avroSerde(id));
    assert.ok(!events.some((event, i) => event.op === 'r' && records[i]!.timestamp >= restartedAt), 'the restart took no snapshot');
    // Every document the writer inserted is in the change topic; those of the kill and the restart came after it.
    const captured = new Set(events.filter((event) => event.op === 'c' || event.op === 'r').map((event) => idOf(event.key._id as string)));
    assert.deepEqual(inserted.filter((insertedId) => !captured.has(insertedId)), []);
    const afterRestart = new Set(events.filter((event, i) => event.op === 'c' && records[i]!.timestamp >= restartedAt).map((event) => idOf(event.key._id as string)));
    assert.deepEqual(inserted.slice(insertedBeforeRestart).filter((insertedId) => !afterRestart.has(insertedId)), []);
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
