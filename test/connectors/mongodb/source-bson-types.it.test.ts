import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { SnapshotItem, StreamItem } from '../../../topology/source.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { Recorder, canonical, changesOf, freshDatabase, rowsOf, seesAll } from './source-harness.ts';

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
