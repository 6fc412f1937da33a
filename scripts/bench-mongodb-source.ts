/**
 * Snapshot docs/s and streaming events/s of the MongoDB source against MONGODB_URL (the stack's test
 * server by default). Usage: npx tsx scripts/bench-mongodb-source.ts [documents=100000]
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { lastValueFrom, filter, take, toArray } from 'rxjs';
import { FlowControl } from '../topology/flow-control.ts';
import { MongoSource } from '../connectors/mongodb/source.ts';
import { stackEnv } from '../test/support/stack-env.ts';

const documents = Number(process.argv[2] ?? 100_000);
const url = stackEnv().MONGODB_URL;
const database = `bench_mongo_source_${randomUUID().slice(0, 8)}`;
const client = new MongoClient(url);
await client.connect();
const collection = client.db(database).collection<{ _id: number; name: string; amount: number; tags: string[] }>('orders');
const make = (id: number) => ({ _id: id, name: `order ${id}`, amount: id * 1.5, tags: ['a', 'b'] });
const source = new MongoSource({ name: 'bench', url, database, chunkSize: 10_000 });
try {
  for (let start = 0; start < documents; start += 10_000) {
    await collection.insertMany(Array.from({ length: Math.min(10_000, documents - start) }, (_, i) => make(start + i)));
  }
  const from = await source.openLog();
  const flow = new FlowControl();
  let started = performance.now();
  const snapshot = await lastValueFrom(source.snapshot(from, {}, flow).pipe(filter((item) => item.kind === 'row'), toArray()));
  const snapshotSeconds = (performance.now() - started) / 1000;

  for (let start = 0; start < documents; start += 10_000) {
    await collection.insertMany(Array.from({ length: Math.min(10_000, documents - start) }, (_, i) => make(documents + start + i)));
  }
  started = performance.now();
  const streamed = source.stream(from, flow).pipe(filter((item) => item.kind === 'change'), take(documents), toArray());
  const events = await lastValueFrom(streamed);
  const streamSeconds = (performance.now() - started) / 1000;
  console.log(`snapshot: ${snapshot.length} docs in ${snapshotSeconds.toFixed(2)} s = ${Math.round(snapshot.length / snapshotSeconds)} docs/s`);
  console.log(`stream:   ${events.length} events in ${streamSeconds.toFixed(2)} s = ${Math.round(events.length / streamSeconds)} events/s (inserts written before the stream started, read back from the change stream)`);
} finally {
  await source.close();
  await client.db(database).dropDatabase();
  await client.close();
}
