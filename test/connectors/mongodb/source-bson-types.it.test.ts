import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { SnapshotItem, StreamItem } from '../../../topology/source.ts';
import { TopologyBuilder } from '../../../topology/topology.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { MongoSink } from '../../../connectors/mongodb/sink.ts';
import { deletePipelineTopics, kafkaTransport, uniquePipeline } from '../../topology/fixtures/kafka-kit.ts';
import { avroSerde } from '../support/repartition-topic.ts';
import { scratchMongo } from '../support/targets.ts';
import { TopicTail, copyState, tokensOf, untilCopyEquals } from './pipeline-harness.ts';
import { Recorder, canonical, changesOf, collectionState, freshDatabase, rowsOf, seesAll } from './source-harness.ts';

function everyType(id: BSON.ObjectId, n: number): BSON.Document {
  return {
    _id: id,
    decimal: BSON.Decimal128.fromString('1234567890.123456789012345678901234'),
    date: new Date(Date.UTC(1969, 6, 20, 20, 17, 40, 123)),
    binary: new BSON.Binary(Buffer.from([0, 1, 2, 254, 255]), BSON.Binary.SUBTYPE_DEFAULT),
    uuid: new BSON.Binary(Buffer.alloc(16, 7), BSON.Binary.SUBTYPE_UUID),
    nested: { list: [1, [2, [3, { deep: 'yes' }]], { inner: [new BSON.Int32(4)] }], empty: {}, emptyList: [] },
    long: BSON.Long.fromString('9007199254740993'),
    int32: new BSON.Int32(n),
    double: new BSON.Double(2),
    fraction: new BSON.Double(-0.1),
    timestamp: new BSON.Timestamp({ t: 1700000000, i: 42 }),
    yes: true,
    no: false,
    nothing: null,
    regex: new BSON.BSONRegExp('^a.c$', 'imsx'),
    text: 'zürich 🚀',
  };
}

test('documents of every BSON type arrive unchanged through snapshot and stream (canonical Extended JSON)', { timeout: 120_000 }, async () => {
  const target = await freshDatabase('mongo_src_types');
  const typed = target.db.collection('typed');
  const snapshotted = everyType(new BSON.ObjectId(), 1);
  await typed.insertOne(snapshotted);
  const source = new MongoSource({ name: 'm', url: target.url, database: target.name });
  try {
    const from = await source.openLog();
    const flow = new FlowControl();
    const [row] = rowsOf(await new Recorder<SnapshotItem>(source.snapshot(from, {}, flow)).done());
    assert.deepEqual(row?.key, { _id: canonical(snapshotted._id) });
    assert.deepEqual(row?.after, { doc: canonical(snapshotted) });
    assert.deepEqual(BSON.EJSON.parse((row?.after as { doc: string }).doc, { relaxed: false }), BSON.EJSON.parse(canonical(snapshotted), { relaxed: false }));

    const streamed = everyType(new BSON.ObjectId(), 2);
    const stream = new Recorder<StreamItem>(source.stream(from, flow));
    await typed.insertOne(streamed);
    await typed.replaceOne({ _id: snapshotted._id }, { ...everyType(snapshotted._id as BSON.ObjectId, 3) });
    await stream.until((items) => seesAll([canonical(streamed._id)])(items) && changesOf(items).some((event) => event.op === 'u'));
    stream.stop();
    const byKey = new Map(changesOf(stream.items).map((event) => [event.key._id, event]));
    assert.deepEqual(byKey.get(canonical(streamed._id))?.after, { doc: canonical(streamed) });
    assert.deepEqual(byKey.get(canonical(snapshotted._id))?.after, { doc: canonical(everyType(snapshotted._id as BSON.ObjectId, 3)) });
    assert.match(canonical(streamed), /\$numberDecimal.*\$date.*\$binary.*\$numberLong.*\$numberInt.*\$numberDouble.*\$timestamp.*\$regularExpression/s);
  } finally {
    await source.close();
    await target.drop();
  }
});

test('documents of every BSON type arrive unchanged through Avro on Kafka (the stack registry), decoded, and in the MongoDB sink', { timeout: 120_000 }, async () => {
  const source = await freshDatabase('mongo_src_types_kafka');
  const target = await scratchMongo('types_copy');
  const typed = source.db.collection('typed');
  const snapshotted = everyType(new BSON.ObjectId(), 1);
  await typed.insertOne(snapshotted);
  const id = uniquePipeline('mongo-types');
  const transport = kafkaTransport();
  const running = await new TopologyBuilder({ pipeline: id, serde: avroSerde(id), exactlyOnce: true })
    .source(new MongoSource({ name: 'm', url: source.url, database: source.name }))
    .repartition({ partitions: 2 })
    .sink(new MongoSink({ name: 'copy', url: target.url, database: target.name }))
    .build()
    .start(transport);
  const changeTopic = `${id}.m.changes`;
  const tail = await TopicTail.start([`${id}.tokens`, changeTopic]);
  try {
    await tail.until('the snapshot is finished', () => (tokensOf(tail.of(`${id}.tokens`)).some((token) => token.phase === 'streaming') ? true : undefined));
    const streamed = everyType(new BSON.ObjectId(), 2);
    const replaced = everyType(snapshotted._id as BSON.ObjectId, 3);
    await typed.insertOne(streamed);
    await typed.replaceOne({ _id: snapshotted._id }, replaced);
    const targetDb = target.client.db(target.name);
    await untilCopyEquals(source.db, targetDb, 'typed');
    await running.stop();

    // What other consumers get: the change topic read by a plain consumer, decoded by a serde knowing only the registry.
    const serde = avroSerde(id);
    const eventOf = async (op: string, document: BSON.Document) =>
      (await tail.events(changeTopic, serde)).find((event) => event.op === op && event.key._id === canonical(document._id) && event.after?.doc === canonical(document));
    for (const [op, document, what] of [['r', snapshotted, 'snapshot read'], ['c', streamed, 'streamed insert'], ['u', replaced, 'streamed replace']] as const) {
      await tail.until(`the ${what}, unchanged, in the change topic`, () => eventOf(op, document));
    }
    assert.deepEqual(await copyState(targetDb, 'typed'), await collectionState(source.db, 'typed'), 'the sink copy holds the same BSON types and values');
  } finally {
    await running.stop();
    await tail.stop();
    await transport.close();
    await deletePipelineTopics(id);
    await target.drop();
    await source.drop();
  }
});

