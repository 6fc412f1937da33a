/**
 * Real-MongoDB behaviours the local test server lacks, against a scripted wire-level peer
 * (fixtures/scripted-mongod.ts) that the real `mongodb` driver talks to: post-batch resume tokens,
 * operationTime, startAfter, an unknown token (280), ChangeStreamHistoryLost (286), transactions
 * (lsid/txnNumber), a dropped collection, database scope, post- and pre-images, and the incremental
 * snapshot's causally consistent chunk reads and stream boundary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BSON, type Document } from 'mongodb';
import { FlowControl } from '../../../topology/flow-control.ts';
import { PositionLostError, SourceMisconfiguredError } from '../../../topology/errors.ts';
import type { LogPosition, StreamCursor, StreamItem } from '../../../topology/source.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { eventually } from '../../topology/support/eventually.ts';
import { ScriptedMongod, resumeTokenAt } from './fixtures/scripted-mongod.ts';
import { Recorder, canonical } from './source-harness.ts';

const CURSOR_ID = BSON.Long.fromNumber(7);
const NS = 'shop.orders';

/** Answers the source's commands; aggregate and getMore replies are taken in order, the last one repeated. */
function changeStreamScript(replies: { aggregate: Document[]; getMore: Document[] }, collections = ['orders']): (command: Document) => Document | undefined {
  const taken = { aggregate: 0, getMore: 0 };
  const next = (name: 'aggregate' | 'getMore') => replies[name][Math.min(taken[name]++, replies[name].length - 1)];
  return (command) => {
    if ('ping' in command) return { ok: 1, operationTime: new BSON.Timestamp({ t: 100, i: 1 }) };
    if ('listCollections' in command) {
      const firstBatch = collections.map((name) => ({ name, type: 'collection' }));
      return { cursor: { id: BSON.Long.ZERO, ns: 'shop.$cmd.listCollections', firstBatch }, ok: 1 };
    }
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

test('openLog() stores the post-batch resume token, opened at the server operationTime; an idle batch commits a newer token as a heartbeat, at most one per interval; 286 is PositionLostError', async () => {
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [batch('firstBatch', [], resumeTokenAt(100, 2))],
      getMore: [
        batch('nextBatch', [], resumeTokenAt(100, 3)),
        batch('nextBatch', [], resumeTokenAt(100, 5)),
        // Within the heartbeat interval (10 s by default) of the heartbeat at (100, 5): not committed.
        batch('nextBatch', [], resumeTokenAt(100, 7)),
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
    // The start of a stream without a token of its own moves with the commits' positions.
    assert.deepEqual(stream.items, [
      {
        kind: 'commit',
        position: { position: '0000000100.0000000005.00000000', resume: { startAtOperationTime: { t: 100, i: 5 }, resumeTokens: { orders: canonical(resumeTokenAt(100, 5)) } } },
        heartbeat: true,
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

/**
 * What a real server answers an idle source while another collection of the database is written, getMore
 * after getMore, the i-th at oplog entry (300, i): watching the idle collection, empty batches whose
 * post-batch resume token moves with the oplog; watching the database, that collection's changes, which
 * the source leaves out. With the source, and the tokens it commits for entry i.
 */
const WRITTEN_ELSEWHERE = {
  collection: {
    getMore: (i: number) => batch('nextBatch', [], resumeTokenAt(300, i)),
    source: (url: string, heartbeatIntervalMs: number) =>
      new MongoSource({ name: 'orders-src', url, database: 'shop', collections: { exclude: ['audit'] }, maxAwaitTimeMS: 10, heartbeatIntervalMs }),
    tokensAt: (i: number) => ({ orders: canonical(resumeTokenAt(300, i)) }),
  },
  database: {
    getMore: (i: number) => ({
      cursor: { id: CURSOR_ID, ns: 'shop.$cmd.aggregate', nextBatch: [changeOf('insert', 'audit', i, i, { fullDocument: { _id: i } })], postBatchResumeToken: resumeTokenAt(300, i) },
      ok: 1,
    }),
    source: (url: string, heartbeatIntervalMs: number) =>
      new MongoSource({ name: 'orders-src', url, database: 'shop', scope: 'database', collections: { exclude: ['audit'] }, maxAwaitTimeMS: 10, heartbeatIntervalMs }),
    tokensAt: (i: number) => ({ '*': canonical(resumeTokenAt(300, i)) }),
  },
};
const ENTRIES = 5000;

for (const scope of ['collection', 'database'] as const) {
  test(`scope ${scope}: while only another collection is written, heartbeats move an idle source's token along the oplog as the heartbeat setting says: every 100 ms, once in 60 s, never with 0`, async () => {
    const elsewhere = WRITTEN_ELSEWHERE[scope];
    const entryOf = new Map(Array.from({ length: ENTRIES }, (_, at) => [JSON.stringify(elsewhere.tokensAt(at + 1)), at + 1]));
    /** Streams against a server that goes on answering as above; `body` looks at what the source emitted. */
    const streamed = async (heartbeatIntervalMs: number, body: (stream: Recorder<StreamItem>, peer: ScriptedMongod) => Promise<void>) => {
      const getMore = Array.from({ length: ENTRIES }, (_, at) => elsewhere.getMore(at + 1));
      const peer = await ScriptedMongod.start(changeStreamScript({ aggregate: [batch('firstBatch', [], resumeTokenAt(100, 2))], getMore }, ['audit', 'orders']));
      const source = elsewhere.source(peer.url, heartbeatIntervalMs);
      const stream = new Recorder<StreamItem>(source.stream(await source.openLog(), new FlowControl()));
      try {
        await body(stream, peer);
      } finally {
        stream.stop();
        await source.close();
        await peer.stop();
      }
    };
    /** The oplog entry of a heartbeat commit: its tokens and its position both name it. */
    const heartbeatEntry = (item: StreamItem): number => {
      assert.ok(item.kind === 'commit' && item.heartbeat === true, JSON.stringify(item));
      const entry = entryOf.get(JSON.stringify(item.position.resume.resumeTokens));
      assert.ok(entry !== undefined, `tokens the server sent: ${JSON.stringify(item.position.resume.resumeTokens)}`);
      assert.ok(item.position.position.startsWith(`0000000300.${String(entry).padStart(10, '0')}.`), `${item.position.position} at oplog entry ${entry}`);
      return entry;
    };

    await streamed(100, async (stream) => {
      const entries = (await stream.until((items) => items.length >= 3)).slice(0, 3).map(heartbeatEntry);
      assert.ok(entries[0]! < entries[1]! && entries[1]! < entries[2]!, `each heartbeat further on in the oplog: entries ${entries.join(', ')}`);
    });
    // The first token without captured changes is committed at once, the next not before 60 s; with 0, none.
    for (const [heartbeatIntervalMs, commits] of [[60_000, 1], [0, 0]] as const) {
      await streamed(heartbeatIntervalMs, async (stream, peer) => {
        await eventually('40 getMores answered', () => peer.named('getMore').length >= 40);
        assert.equal(stream.items.length, commits, `heartbeat ${heartbeatIntervalMs} ms: ${JSON.stringify(stream.items)}`);
        stream.items.forEach(heartbeatEntry);
      });
    }
  });
}

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

/** A change event of `coll` at cluster time (300, i), as a real server sends it (with `ns` and `documentKey._id`). */
function changeOf(operationType: string, coll: string, id: number, i: number, images: { fullDocument?: Document | null; fullDocumentBeforeChange?: Document | null } = {}): Document {
  return {
    _id: resumeTokenAt(300, i),
    operationType,
    clusterTime: new BSON.Timestamp({ t: 300, i }),
    ns: { db: 'shop', coll },
    documentKey: { _id: id },
    ...images,
  };
}

function described(items: StreamItem[]): string[] {
  return items.map((item) =>
    item.kind === 'change'
      ? `${item.event.op} ${item.event.source.table} ${item.event.key._id as string} before=${item.event.before?.doc ?? 'null'} after=${item.event.after?.doc ?? 'null'}`
      : item.kind === 'commit'
        ? `commit ${JSON.stringify(item.position.resume.resumeTokens)}`
        : item.kind,
  );
}

test('scope: database watches the whole database in one stream: every covered collection by its ns, excluded ones skipped, one token under "*"', async () => {
  const peer = await ScriptedMongod.start(
    changeStreamScript(
      {
        aggregate: [{ cursor: { id: CURSOR_ID, ns: 'shop.$cmd.aggregate', firstBatch: [], postBatchResumeToken: resumeTokenAt(100, 2) }, ok: 1 }],
        getMore: [
          // openLog() reads until the stream is open on the server: its first getMore.
          { cursor: { id: CURSOR_ID, ns: 'shop.$cmd.aggregate', nextBatch: [], postBatchResumeToken: resumeTokenAt(100, 3) }, ok: 1 },
          {
            cursor: {
              id: CURSOR_ID,
              ns: 'shop.$cmd.aggregate',
              nextBatch: [
                changeOf('insert', 'orders', 1, 1, { fullDocument: { _id: 1, total: 1 } }),
                changeOf('insert', 'audit', 2, 2, { fullDocument: { _id: 2 } }),
                changeOf('update', 'customers', 3, 3, { fullDocument: { _id: 3, name: 'c' } }),
                changeOf('delete', 'orders', 1, 4),
              ],
              postBatchResumeToken: resumeTokenAt(300, 4),
            },
            ok: 1,
          },
          { cursor: { id: CURSOR_ID, ns: 'shop.$cmd.aggregate', nextBatch: [], postBatchResumeToken: resumeTokenAt(300, 4) }, ok: 1 },
        ],
      },
      ['audit', 'customers', 'orders'],
    ),
  );
  const source = new MongoSource({ name: 'shop-src', url: peer.url, database: 'shop', scope: 'database', collections: { exclude: ['audit'] }, maxAwaitTimeMS: 10 });
  try {
    await source.check();
    assert.deepEqual(await source.tables(), ['customers', 'orders']);
    const from = await source.openLog();
    const [opened] = peer.named('aggregate');
    assert.equal(opened?.aggregate, 1, 'one database-level aggregate, not one per collection');
    assert.equal(opened?.$db, 'shop');
    assert.deepEqual(opened?.pipeline[0].$changeStream.startAtOperationTime, new BSON.Timestamp({ t: 100, i: 1 }));
    assert.equal(peer.named('aggregate').length, 1);
    assert.deepEqual(from.resume, { startAtOperationTime: { t: 100, i: 1 }, resumeTokens: { '*': canonical(resumeTokenAt(100, 3)) } });

    const stream = new Recorder<StreamItem>(source.stream(from, new FlowControl()));
    await stream.until((items) => items.filter((item) => item.kind === 'commit').length >= 3);
    stream.stop();
    const token = (i: number) => JSON.stringify({ '*': canonical(resumeTokenAt(300, i)) });
    assert.deepEqual(described(stream.items), [
      `c orders ${canonical(1)} before=null after=${canonical({ _id: 1, total: 1 })}`,
      `commit ${token(1)}`,
      // audit is excluded: its event emits nothing, and moves the token only as a heartbeat (not due 10 s
      // after the commit before it).
      `u customers ${canonical(3)} before=null after=${canonical({ _id: 3, name: 'c' })}`,
      `commit ${token(3)}`,
      `d orders ${canonical(1)} before=null after=null`,
      `commit ${token(4)}`,
    ]);
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('fullDocument: required asks for post-images and pre-images; updates and deletes carry the pre-image as before', async () => {
  const pre = { _id: 5, total: BSON.Decimal128.fromString('1.50') };
  const post = { _id: 5, total: BSON.Decimal128.fromString('2.50') };
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [batch('firstBatch', [])],
      getMore: [
        batch('nextBatch', [
          changeOf('update', 'orders', 5, 1, { fullDocument: post, fullDocumentBeforeChange: pre }),
          changeOf('delete', 'orders', 5, 2, { fullDocumentBeforeChange: post }),
        ]),
        batch('nextBatch', []),
      ],
    }),
  );
  const source = new MongoSource({ name: 'orders-src', url: peer.url, database: 'shop', fullDocument: 'required', maxAwaitTimeMS: 10 });
  try {
    await source.check();
    const stream = new Recorder<StreamItem>(source.stream(storedAt(resumeTokenAt(200, 7)), new FlowControl()));
    await stream.until((items) => items.filter((item) => item.kind === 'commit').length >= 2);
    stream.stop();
    const options = peer.named('aggregate')[0]?.pipeline[0].$changeStream;
    assert.equal(options.fullDocument, 'required');
    assert.equal(options.fullDocumentBeforeChange, 'whenAvailable');
    assert.deepEqual(described(stream.items).filter((line) => !line.startsWith('commit')), [
      `u orders ${canonical(5)} before=${canonical(pre)} after=${canonical(post)}`,
      `d orders ${canonical(5)} before=${canonical(post)} after=null`,
    ]);
    assert.equal(peer.named('find').length, 0, 'the post-image is used as it is: no lookup');
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('fullDocument: updateLookup (the default) asks for no pre-images; an update whose document is gone emits nothing, its delete follows', async () => {
  const peer = await ScriptedMongod.start((command) => {
    if ('find' in command) return { cursor: { id: BSON.Long.ZERO, ns: 'shop.orders', firstBatch: [] }, ok: 1 };
    return changeStreamScript({
      aggregate: [batch('firstBatch', [])],
      getMore: [batch('nextBatch', [changeOf('update', 'orders', 6, 1, { fullDocument: null }), changeOf('delete', 'orders', 6, 2)]), batch('nextBatch', [])],
    })(command);
  });
  const source = new MongoSource({ name: 'orders-src', url: peer.url, database: 'shop', maxAwaitTimeMS: 10 });
  try {
    const stream = new Recorder<StreamItem>(source.stream(storedAt(resumeTokenAt(200, 7)), new FlowControl()));
    await stream.until((items) => items.filter((item) => item.kind === 'commit').length >= 2);
    stream.stop();
    const options = peer.named('aggregate')[0]?.pipeline[0].$changeStream;
    assert.equal(options.fullDocument, 'updateLookup');
    assert.equal(options.fullDocumentBeforeChange, undefined);
    assert.deepEqual(peer.named('find')[0]?.filter, { _id: 6 }, 'the document looked up once more, by _id');
    assert.deepEqual(described(stream.items).filter((line) => !line.startsWith('commit')), [`d orders ${canonical(6)} before=null after=null`]);
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('an incremental chunk reads majority-committed data in a session, after its low (afterClusterTime); high is read after it', async () => {
  let pings = 0;
  const peer = await ScriptedMongod.start((command) => {
    if ('ping' in command) return { ok: 1, operationTime: new BSON.Timestamp({ t: 400, i: ++pings }) };
    if ('listCollections' in command) return { cursor: { id: BSON.Long.ZERO, ns: 'shop.$cmd.listCollections', firstBatch: [{ name: 'orders', type: 'collection' }] }, ok: 1 };
    if ('find' in command) return { cursor: { id: BSON.Long.ZERO, ns: NS, firstBatch: [{ _id: 1 }, { _id: 2 }] }, ok: 1 };
    return undefined;
  });
  const source = sourceFor(peer);
  try {
    const chunk = await source.readChunk('orders', undefined, 5);
    const [find] = peer.named('find');
    assert.deepEqual(find?.readConcern, { level: 'majority', afterClusterTime: new BSON.Timestamp({ t: 400, i: 1 }) });
    assert.ok(find?.lsid, 'in a session');
    assert.deepEqual(
      [chunk?.low, chunk?.high, chunk?.rows.length, chunk?.lastKey, chunk?.done],
      ['0000000400.0000000001.99999999', '0000000400.0000000002.99999999', 2, canonical(2), true],
    );
  } finally {
    await source.close();
    await peer.stop();
  }
});

test('the boundary is the post-batch resume token of an idle stream, read with no command of its own; none while a transaction is half emitted', async () => {
  const transaction = { lsid: { id: new BSON.UUID('0f0e0d0c-0b0a-0908-0706-050403020100').toBinary() }, txnNumber: BSON.Long.fromNumber(4) };
  const peer = await ScriptedMongod.start(
    changeStreamScript({
      aggregate: [batch('firstBatch', [])],
      getMore: [batch('nextBatch', [insertEvent(1, 1, transaction), insertEvent(2, 1, transaction)]), batch('nextBatch', [], resumeTokenAt(300, 5))],
    }),
  );
  const source = sourceFor(peer);
  const cursor: StreamCursor = {};
  // Paused from the first event on: the stream stops after it, in the middle of its transaction.
  const flow = new FlowControl(1, 0);
  flow.acquire(1);
  try {
    const stream = new Recorder<StreamItem>(source.stream(storedAt(resumeTokenAt(200, 7)), flow, cursor));
    await stream.until((items) => items.length === 1);
    assert.equal(cursor.boundary?.(), undefined);
    flow.release(1);
    await eventually('the boundary at the idle batch', () => cursor.boundary?.()?.position === '0000000300.0000000005.00000000');
    // With the token waiting for a heartbeat (the transaction's commit was the token's move).
    assert.deepEqual(cursor.boundary?.()?.resume, { startAtOperationTime: { t: 300, i: 5 }, resumeTokens: { orders: canonical(resumeTokenAt(300, 5)) } });
    assert.equal(stream.items.filter((item) => item.kind === 'commit').length, 1);
    stream.stop();
    assert.equal(cursor.boundary?.(), undefined, 'none once stopped');
    assert.equal(peer.named('ping').length, 0, 'the tokens tell how far the stream has read: no cluster time read');
  } finally {
    await source.close();
    await peer.stop();
  }
});
