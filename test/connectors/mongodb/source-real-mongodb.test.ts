/**
 * Real-MongoDB behaviours the local test server lacks, against a scripted wire-level peer
 * (fixtures/scripted-mongod.ts) that the real `mongodb` driver talks to: post-batch resume tokens,
 * operationTime, startAfter, an unknown token (280), ChangeStreamHistoryLost (286), transactions
 * (lsid/txnNumber), and a dropped collection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, type Document } from 'mongodb';
import { FlowControl } from '../../../topology/flow-control.ts';
import { PositionLostError, SourceMisconfiguredError } from '../../../topology/errors.ts';
import type { LogPosition, StreamItem } from '../../../topology/source.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { ScriptedMongod, resumeTokenAt } from './fixtures/scripted-mongod.ts';
import { Recorder, canonical } from './source-harness.ts';

const CURSOR_ID = BSON.Long.fromNumber(7);
const NS = 'shop.orders';

/** Answers the source's commands; aggregate and getMore replies are taken in order, the last one repeated. */
function changeStreamScript(replies: { aggregate: Document[]; getMore: Document[] }): (command: Document) => Document | undefined {
  const taken = { aggregate: 0, getMore: 0 };
  const next = (name: 'aggregate' | 'getMore') => replies[name][Math.min(taken[name]++, replies[name].length - 1)];
  return (command) => {
    if ('ping' in command) return { ok: 1, operationTime: new BSON.Timestamp({ t: 100, i: 1 }) };
    if ('listCollections' in command) return { cursor: { id: BSON.Long.ZERO, ns: 'shop.$cmd.listCollections', firstBatch: [{ name: 'orders', type: 'collection' }] }, ok: 1 };
    if ('aggregate' in command) return next('aggregate');
    if ('getMore' in command) return next('getMore');
    return undefined;
  };
}

function batch(kind: 'firstBatch' | 'nextBatch', events: Document[], postBatchResumeToken?: Document): Document {
  return { cursor: { id: CURSOR_ID, ns: NS, [kind]: events, ...(postBatchResumeToken ? { postBatchResumeToken } : {}) }, ok: 1 };
}

function failure(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, code, codeName, errmsg };
}

function insertEvent(id: number, i: number, transaction?: { lsid: Document; txnNumber: BSON.Long }): Document {
  return {
    _id: resumeTokenAt(300, i),
    operationType: 'insert',
    clusterTime: new BSON.Timestamp({ t: 300, i }),
    ns: { db: 'shop', coll: 'orders' },
    documentKey: { _id: id },
    fullDocument: { _id: id, total: BSON.Decimal128.fromString('9.99') },
    ...transaction,
  };
}

function sourceFor(peer: ScriptedMongod): MongoSource {
  return new MongoSource({ name: 'orders-src', url: peer.url, database: 'shop', maxAwaitTimeMS: 10 });
}

function storedAt(token: Document): LogPosition {
  return { position: '0000000200.0000000007.00000000', resume: { startAtOperationTime: { t: 100, i: 1 }, resumeTokens: { orders: canonical(token) } } };
}

test('openLog() stores the post-batch resume token, opened at the server operationTime; idle batches commit newer tokens; 286 is PositionLostError', async () => {
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [batch('firstBatch', [], resumeTokenAt(100, 2))],
      getMore: [
        batch('nextBatch', [], resumeTokenAt(100, 3)),
        batch('nextBatch', [], resumeTokenAt(100, 5)),
        failure(286, 'ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.'),
      ],
    }),
  );
  const source = sourceFor(peer);
  try {
    const from = await source.openLog();
    assert.deepEqual(peer.named('aggregate')[0]?.pipeline[0].$changeStream.startAtOperationTime, new BSON.Timestamp({ t: 100, i: 1 }));
    assert.equal(from.position, '0000000100.0000000001.00000000');
    assert.deepEqual(from.resume, { startAtOperationTime: { t: 100, i: 1 }, resumeTokens: { orders: canonical(resumeTokenAt(100, 3)) } });

    const stream = new Recorder<StreamItem>(source.stream(from, new FlowControl()));
    const error = await stream.failed();
    assert.deepEqual(stream.items, [
      {
        kind: 'commit',
        position: { position: '0000000100.0000000005.00000000', resume: { startAtOperationTime: { t: 100, i: 1 }, resumeTokens: { orders: canonical(resumeTokenAt(100, 5)) } } },
      },
    ]);
    assert.ok(error instanceof PositionLostError);
    assert.match(error.message, /ChangeStreamHistoryLost, error 286/);
    assert.match(error.message, /snapshot: when_needed/);
    assert.doesNotMatch(error.message, /\n/);
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('a stored token resumes with startAfter; a token the server no longer knows falls back to its cluster time', async () => {
  const stored = resumeTokenAt(200, 7);
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [failure(280, 'ChangeStreamFatalError', 'cannot resume stream; the resume token was not found.'), batch('firstBatch', [], resumeTokenAt(200, 9))],
      getMore: [batch('nextBatch', [], resumeTokenAt(200, 9))],
    }),
  );
  const source = sourceFor(peer);
  try {
    const position = storedAt(stored);
    assert.equal(await source.canResume({ pipeline: 'p', source: 'orders-src', phase: 'streaming', ...position, writtenAt: 0 }), true);
    const [first, second] = peer.named('aggregate').map((command) => command.pipeline[0].$changeStream);
    assert.deepEqual(first.startAfter, stored);
    assert.equal(first.resumeAfter, undefined);
    assert.deepEqual(second.startAtOperationTime, new BSON.Timestamp({ t: 200, i: 7 }));
    assert.equal(first.fullDocument, 'updateLookup');
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('canResume() is false when the server has lost the history (286) of the stored token', async () => {
  const peer = await ScriptedMongod.start(
    changeStreamScript({ aggregate: [failure(286, 'ChangeStreamHistoryLost', 'history lost')], getMore: [batch('nextBatch', [])] }),
  );
  const source = sourceFor(peer);
  try {
    assert.equal(await source.canResume({ pipeline: 'p', source: 'orders-src', phase: 'streaming', ...storedAt(resumeTokenAt(200, 7)), writtenAt: 0 }), false);
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('events of one transaction (lsid + txnNumber) are followed by one commit, after the last of them', async () => {
  const transaction = { lsid: { id: new BSON.UUID('0f0e0d0c-0b0a-0908-0706-050403020100').toBinary() }, txnNumber: BSON.Long.fromNumber(4) };
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [batch('firstBatch', [])],
      getMore: [
        batch('nextBatch', [insertEvent(1, 1, transaction), insertEvent(2, 1, transaction)]),
        batch('nextBatch', [insertEvent(3, 2)], resumeTokenAt(300, 2)),
        batch('nextBatch', [], resumeTokenAt(300, 2)),
      ],
    }),
  );
  const source = sourceFor(peer);
  try {
    const stream = new Recorder<StreamItem>(source.stream(storedAt(resumeTokenAt(200, 7)), new FlowControl()));
    await stream.until((items) => items.filter((item) => item.kind === 'commit').length >= 2);
    stream.stop();
    assert.deepEqual(
      stream.items.map((item) => (item.kind === 'change' ? `${item.event.op}${item.event.key._id} ${item.event.source.position} ${item.event.source.txId ?? '-'}` : item.kind === 'commit' ? `commit ${item.position.position}` : item.kind)),
      [
        `c${canonical(1)} 0000000300.0000000001.00000001 0f0e0d0c0b0a09080706050403020100:4`,
        `c${canonical(2)} 0000000300.0000000001.00000002 0f0e0d0c0b0a09080706050403020100:4`,
        'commit 0000000300.0000000001.00000002',
        `c${canonical(3)} 0000000300.0000000002.00000001 -`,
        'commit 0000000300.0000000002.00000001',
      ],
    );
    const change = stream.items[0];
    assert.equal(change?.kind === 'change' && change.event.after?.doc, canonical({ _id: 1, total: BSON.Decimal128.fromString('9.99') }));
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('a dropped collection ends the stream with a SourceMisconfiguredError after committing the events before it', async () => {
  const dropped = { _id: resumeTokenAt(300, 3), operationType: 'drop', clusterTime: new BSON.Timestamp({ t: 300, i: 3 }), ns: { db: 'shop', coll: 'orders' } };
  const invalidate = { _id: resumeTokenAt(300, 4), operationType: 'invalidate', clusterTime: new BSON.Timestamp({ t: 300, i: 4 }) };
  const peer = await ScriptedMongod.start(
    changeStreamScript({ aggregate: [batch('firstBatch', [])], getMore: [batch('nextBatch', [insertEvent(5, 2), dropped, invalidate])] }),
  );
  const source = sourceFor(peer);
  try {
    const stream = new Recorder<StreamItem>(source.stream(storedAt(resumeTokenAt(200, 7)), new FlowControl()));
    const error = await stream.failed();
    assert.ok(error instanceof SourceMisconfiguredError);
    assert.match(error.message, /orders saw drop at position 0000000300\.0000000003\.00000001/);
    assert.deepEqual(
      stream.items.map((item) => item.kind),
      ['change', 'commit', 'commit'],
    );
  } finally {
    await source.close();
    await peer.stop();
  }
});
