/**
 * The token protocol of the MongoDB source on the stack's Kafka and schema registry (the product's
 * topology, KafkaTransport and Avro serde), observed from outside by a plain KafkaJS consumer.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopologyBuilder } from '../../../topology/topology.ts';
import { TopicTokenStore, tablesKey } from '../../../topology/token-store.ts';
import { TokenCommitError } from '../../../topology/errors.ts';
import type { FlowControl } from '../../../topology/flow-control.ts';
import type { LogPosition } from '../../../topology/source.ts';
import type { TableSnapshotProgress } from '../../../topology/token.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { deletePipelineTopics, trackedKafkaTransports, uniquePipeline, withAdmin } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde } from '../support/repartition-topic.ts';
import { TopicTail, decodeAll, tokensOf } from './pipeline-harness.ts';
import { canonical, collectionState, freshDatabase } from './source-harness.ts';

const pipelines: string[] = [];
const transports = trackedKafkaTransports();
const kafkaTransport = () => transports.open();
after(async () => {
  await transports.closeAll();
  for (const id of pipelines) await deletePipelineTopics(id);
});

/** A real MongoSource that also counts the protocol steps the runner asks of it. */
class ObservedMongoSource extends MongoSource {
  openLogs = 0;
  snapshots = 0;

  override openLog(): Promise<LogPosition> {
    this.openLogs++;
    return super.openLog();
  }

  override snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl) {
    this.snapshots++;
    return super.snapshot(from, progress, flow);
  }
}

const APPEND_TIME = { name: 'message.timestamp.type', value: 'LogAppendTime' };
const COMPACT = { name: 'cleanup.policy', value: 'compact' };

for (const exactlyOnce of [false, true]) {
  const mode = exactlyOnce ? 'exactly-once' : 'at least once';
  test(`on Kafka (${mode}), the first token is appended to <pipeline>.tokens before any document is read or any r event appended`, { timeout: 120_000 }, async () => {
    const source = await freshDatabase('mongo_kafka_token');
    const people = source.db.collection<{ _id: number; name: string }>('people');
    const documents = 3000;
    await people.insertMany(Array.from({ length: documents }, (_, i) => ({ _id: i, name: `p${i}` })));
    const id = uniquePipeline('mongo-token');
    pipelines.push(id);
    const tokenTopic = `${id}.tokens`;
    const changeTopic = `${id}.m.changes`;
    // Both topics stamped by the broker as it appends (LogAppendTime): one clock, the broker's, for both.
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: tokenTopic, numPartitions: 1, configEntries: [COMPACT, APPEND_TIME] },
          { topic: changeTopic, numPartitions: 1, configEntries: [APPEND_TIME] },
        ],
      }),
    );
    const tail = await TopicTail.start([tokenTopic, changeTopic]);
    const running = await new TopologyBuilder({ pipeline: id, serde: avroSerde(id), exactlyOnce, maxBatch: 400 })
      .source(new MongoSource({ name: 'm', url: source.url, database: source.name, chunkSize: 1000 }))
      .repartition({ partitions: 2 })
      .build()
      .start(kafkaTransport());
    try {
      await tail.until('the snapshot is finished and every r event read', () =>
        tokensOf(tail.of(tokenTopic)).some((token) => token.phase === 'streaming') && tail.of(changeTopic).length >= documents ? true : undefined,
      );
      await running.stop();

      const [firstToken, ...later] = tokensOf(tail.of(tokenTopic));
      assert.ok(firstToken);
      const first = firstToken.record;
      // Only the first token's table maps precede it.
      assert.equal(first.offset, 1);
      assert.deepEqual(tail.of(tokenTopic).slice(0, 1).map((record) => record.key?.toString()), [tablesKey(id, 'm')]);
      assert.equal(firstToken.phase, 'snapshot');
      assert.deepEqual(firstToken.snapshot, {}, 'the first token records no snapshot progress: no chunk was read before it');
      // Streaming starts at the first token's cluster time, inclusively: the last insert may follow as a `c` event.
      const changeRecords = tail.of(changeTopic).slice(0, documents);
      const events = await decodeAll(avroSerde(id), changeRecords);
      assert.ok(events.every((event) => event.op === 'r' && event.source.position === firstToken.position), 'the change topic starts with the r events, each at the first token position');
      assert.deepEqual(new Set(events.map((event) => event.key._id)), new Set((await collectionState(source.db, 'people')).keys()));

      // Why this shows the token came first: the broker stamps each record with its own clock when it appends it
      // (LogAppendTime), and acknowledges only after that (acks=all), so the first token's timestamp is a moment
      // before the source was told its token is durable. The source stamps each r event (source.ts_ms, carried
      // through Avro) with the moment it read the document, on the same machine's clock. A source that read a
      // document before its token was acknowledged would show a read time, and an append time, before the
      // token's: these are never earlier, for the first r event and every one after it.
      const tokenAppended = first.timestamp;
      assert.ok(changeRecords[0]!.timestamp >= tokenAppended, `first r event appended at ${changeRecords[0]!.timestamp}, the token at ${tokenAppended}`);
      const readBefore = events.filter((event) => event.source.tsMs < tokenAppended);
      assert.deepEqual(readBefore, [], 'no document was read before the first token was appended');
      // At least once, each chunk's progress token is sent after the r events it counts are acknowledged, so
      // it is appended after them (exactly-once puts both in one transaction, one produce request).
      for (const token of exactlyOnce ? [] : later) {
        const { record } = token;
        const rows = Object.values(token.snapshot ?? {}).reduce((sum, progress) => sum + progress.rows, 0);
        if (rows > 0) assert.ok(record.timestamp >= changeRecords[rows - 1]!.timestamp, `the token counting ${rows} rows is appended after the ${rows}th r event`);
      }
      assert.equal(events[0]!.key._id, canonical(0), 'the snapshot reads in _id order');
    } finally {
      await running.stop();
      await tail.stop();
      await source.drop();
    }
  });
}

test('on Kafka, a token commit the broker refuses starts no snapshot: nothing is read or written, the topology fails with TokenCommitError', { timeout: 120_000 }, async () => {
  const source = await freshDatabase('mongo_kafka_token_refused');
  await source.db.collection<{ _id: number }>('people').insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i })));
  const id = uniquePipeline('mongo-token-refused');
  pipelines.push(id);
  // A real broker refusal: the token topic takes no record batch over 100 bytes, and a token is larger.
  await withAdmin((admin) =>
    admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${id}.tokens`, numPartitions: 1, configEntries: [COMPACT, { name: 'max.message.bytes', value: '100' }] }] }),
  );
  const observed = new ObservedMongoSource({ name: 'm', url: source.url, database: source.name });
  try {
    const running = await new TopologyBuilder({ pipeline: id, serde: avroSerde(id), exactlyOnce: true })
      .source(observed)
      .repartition({ partitions: 2 })
      .build()
      .start(kafkaTransport());
    const error = await running.done.then(
      () => assert.fail('the topology went on without its first token'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof TokenCommitError, String(error));
    assert.match(error.message, /source m/);
    assert.equal(observed.openLogs, 1, 'the log was opened: the failure is the commit of its token');
    assert.equal(observed.snapshots, 0, 'the snapshot was never started');
    const changes = await withAdmin((admin) => admin.fetchTopicOffsets(`${id}.m.changes`));
    assert.deepEqual(changes.map(({ high }) => high), ['0'], 'nothing was ever appended to the change topic');
    // The refused token's transaction was aborted (its marker is all the topic holds): a restart finds no token.
    const tokens = await TopicTokenStore.open(kafkaTransport(), id);
    assert.equal(await tokens.latest('m'), undefined);
    await tokens.close();
  } finally {
    await observed.close();
    await source.drop();
  }
});
