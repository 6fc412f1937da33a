import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MongoClient, type ChangeStreamInsertDocument } from 'mongodb';
import { stackEnv } from '../support/stack-env.ts';

test('an insert on the MongoDB test server arrives on a change stream', { timeout: 60_000 }, async () => {
  const client = new MongoClient(stackEnv().MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db(`stack_check_${randomUUID().slice(0, 8)}`);
  const collection = db.collection<{ _id: number; name: string }>('people');
  const stream = collection.watch<{ _id: number; name: string }, ChangeStreamInsertDocument<{ _id: number; name: string }>>([], {
    fullDocument: 'updateLookup',
  });
  try {
    const next = stream.next();
    // The server opens the stream on its first getMore; give it a moment before writing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await collection.insertOne({ _id: 1, name: 'lucy' });
    const change = await next;
    assert.equal(change.operationType, 'insert');
    assert.deepEqual(change.fullDocument, { _id: 1, name: 'lucy' });
    assert.ok(stream.resumeToken, 'the stream exposes a resume token');
  } finally {
    await stream.close();
    await db.dropDatabase();
    await client.close();
  }
});
