/**
 * From MongoDB change events (and snapshot reads) to the shared ChangeEvent (topology/change-event.ts):
 * documents travel as canonical Extended JSON strings under `doc`, the key as the canonical Extended
 * JSON of `_id` under `_id`, so every BSON type survives unchanged.
 *
 * Change Streams (server manual, "Change Events"): `insert` → `c`; `update` and `replace` → `u`;
 * `delete` → `d`. `drop`, `rename`, `dropDatabase` and `invalidate` end a stream: they are returned as
 * {@link StreamEnd} and the source reports them as an error (see source.ts). Other operation types
 * (`create`, `createIndexes`, ... shown only with showExpandedEvents) carry no document change.
 */
import { BSON, type ChangeStreamDocument, type Document } from 'mongodb';
import type { ChangeEvent, Op, Row } from '../../topology/change-event.ts';
import { fromTimestamp } from './position.ts';

/** Reads the server needs for update events that arrive without their document's identity or image. */
export interface DocumentLookup {
  /**
   * The `_id` an update at `clusterTime` changed, from its oplog entry (`o2._id`). Only for servers whose
   * update events lack `documentKey._id`: mongo-java-server 1.47 puts the update's modifier
   * (`{$set: ...}`) there, and on events replayed by resumeAfter/startAtOperationTime its `fullDocument`
   * is the modifier's fields without `_id` too.
   */
  idFromOplog(namespace: string, clusterTime: BSON.Timestamp): Promise<unknown>;
  /** The document as it is now (the `updateLookup` read), or null when it is gone. */
  currentDocument(collection: string, id: unknown): Promise<Document | null>;
}

export interface EventOrigin {
  sourceName: string;
  database: string;
}

export interface StreamEnd {
  operationType: 'drop' | 'rename' | 'dropDatabase' | 'invalidate';
  collection: string;
}

export function canonicalEjson(value: unknown): string {
  return BSON.EJSON.stringify(value, { relaxed: false });
}

/** BSON read options that keep every value's BSON type (Int32, Long, Double, regex flags) for Extended JSON. */
export const TYPE_PRESERVING_READ = { promoteValues: false, promoteLongs: false, bsonRegExp: true } as const;

export function snapshotReadEvent(origin: EventOrigin, collection: string, document: Document, position: string): ChangeEvent {
  const now = Date.now();
  return makeEvent(origin, collection, 'r', document._id, null, document, { position, tsMs: now, snapshot: true });
}

/**
 * The ChangeEvent for one change-stream document of `collection` (its `ns.coll`, or for a collection's
 * stream that collection: mongo-java-server sends no `ns`); undefined when it changes no document (or, for an
 * update, when the document is gone by the time it is looked up: its `delete` follows in the stream).
 */
export async function streamedEvent(
  origin: EventOrigin,
  change: ChangeStreamDocument,
  collection: string,
  position: string,
  lookup: DocumentLookup,
): Promise<ChangeEvent | StreamEnd | undefined> {
  switch (change.operationType) {
    case 'drop':
    case 'rename':
    case 'dropDatabase':
      return { operationType: change.operationType, collection };
    case 'invalidate':
      return { operationType: 'invalidate', collection };
    case 'insert':
    case 'update':
    case 'replace':
    case 'delete':
      break;
    default:
      return undefined;
  }
  const clusterTime = change.clusterTime ?? new BSON.Timestamp({ t: 0, i: 0 });
  const fullDocument = 'fullDocument' in change ? (change.fullDocument as Document | null | undefined) : undefined;
  const before = 'fullDocumentBeforeChange' in change ? ((change.fullDocumentBeforeChange as Document | null | undefined) ?? null) : null;
  const id = await documentIdOf(change.documentKey as Document | undefined, fullDocument, `${origin.database}.${collection}`, clusterTime, lookup);
  const at = {
    position,
    tsMs: change.wallTime?.getTime() ?? fromTimestamp(clusterTime).t * 1000,
    snapshot: false,
    txId: change.lsid !== undefined && change.txnNumber !== undefined ? transactionId(change.lsid, change.txnNumber) : undefined,
  };
  if (change.operationType === 'delete') return makeEvent(origin, collection, 'd', id, before, null, at);
  const after = fullDocument != null && '_id' in fullDocument ? fullDocument : await lookup.currentDocument(collection, id);
  if (after === null) return undefined;
  return makeEvent(origin, collection, change.operationType === 'insert' ? 'c' : 'u', id, before, after, at);
}

async function documentIdOf(
  documentKey: Document | undefined,
  fullDocument: Document | null | undefined,
  namespace: string,
  clusterTime: BSON.Timestamp,
  lookup: DocumentLookup,
): Promise<unknown> {
  if (documentKey !== undefined && '_id' in documentKey) return documentKey._id;
  if (fullDocument != null && '_id' in fullDocument) return fullDocument._id;
  const id = await lookup.idFromOplog(namespace, clusterTime);
  if (id === undefined) {
    throw new Error(`change event at ${canonicalEjson(clusterTime)} on ${namespace} names no document (no documentKey._id, no oplog entry)`);
  }
  return id;
}

function transactionId(lsid: Document, txnNumber: unknown): string {
  const sessionId = lsid.id instanceof BSON.Binary ? lsid.id.toString('hex') : canonicalEjson(lsid.id);
  return `${sessionId}:${String(txnNumber)}`;
}

function makeEvent(
  origin: EventOrigin,
  collection: string,
  op: Op,
  id: unknown,
  before: Document | null,
  after: Document | null,
  at: { position: string; tsMs: number; snapshot: boolean; txId?: string },
): ChangeEvent {
  const source: ChangeEvent['source'] = {
    connector: 'mongodb',
    name: origin.sourceName,
    db: origin.database,
    table: collection,
    position: at.position,
    tsMs: at.tsMs,
    snapshot: at.snapshot,
  };
  if (at.txId !== undefined) source.txId = at.txId;
  return { op, key: { _id: canonicalEjson(id) }, before: image(before), after: image(after), source, tsMs: Date.now() };
}

function image(document: Document | null): Row | null {
  return document === null ? null : { doc: canonicalEjson(document) };
}
