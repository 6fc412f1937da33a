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
import { truncateEvent, type ChangeEvent, type Op, type Row } from '../../topology/change-event.ts';
import { fromTimestamp } from './position.ts';

/** Reads the server needs for update events that arrive without their document's identity or image (document-lookup.ts). */
export interface DocumentLookup {
  /**
   * The `_id` and the current document of the update at `clusterTime` of `collection`, from its oplog entry
   * (`o2._id`); undefined when the oplog has no update there. Only for servers whose update events lack
   * `documentKey._id`: mongo-java-server 1.47 puts the update's modifier (`{$set: ...}`) there, and its
   * `fullDocument` is the modifier's fields without `_id`.
   */
  updateFromOplog(collection: string, clusterTime: BSON.Timestamp): Promise<LookedUpUpdate | undefined>;
  /** The document as it is now (the `updateLookup` read), or null when it is gone. */
  currentDocument(collection: string, id: unknown): Promise<Document | null>;
}

export interface LookedUpUpdate {
  id: unknown;
  /** Read at or after the update; null when the document is gone by then. */
  document: Document | null;
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

/** The end marker of a collection's snapshot (topology/source.ts SnapshotItem): the documents written before the snapshot's position are gone unless the snapshot wrote them again. */
export function snapshotDoneEvent(origin: EventOrigin, collection: string, position: string): ChangeEvent {
  return truncateEvent({ connector: 'mongodb', name: origin.sourceName, db: origin.database, table: collection, position, tsMs: Date.now(), snapshot: true }, undefined);
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
  const at = {
    position,
    tsMs: change.wallTime?.getTime() ?? fromTimestamp(clusterTime).t * 1000,
    snapshot: false,
    txId: change.lsid !== undefined && change.txnNumber !== undefined ? transactionId(change.lsid, change.txnNumber) : undefined,
  };
  const knownId = idIn(change.documentKey as Document | undefined) ?? idIn(fullDocument);
  if (change.operationType === 'delete') {
    if (knownId === undefined) throw noDocumentError(origin, collection, clusterTime);
    return makeEvent(origin, collection, 'd', knownId.id, before, null, at);
  }
  const update = await updatedDocument(collection, clusterTime, knownId, fullDocument, lookup);
  if (update === undefined) throw noDocumentError(origin, collection, clusterTime);
  if (update.document === null) return undefined;
  return makeEvent(origin, collection, change.operationType === 'insert' ? 'c' : 'u', update.id, before, update.document, at);
}

/** The `_id` and after image of an insert, update or replace: from the event where it has them, else read. */
async function updatedDocument(
  collection: string,
  clusterTime: BSON.Timestamp,
  knownId: { id: unknown } | undefined,
  fullDocument: Document | null | undefined,
  lookup: DocumentLookup,
): Promise<LookedUpUpdate | undefined> {
  if (knownId === undefined) return lookup.updateFromOplog(collection, clusterTime);
  if (fullDocument != null && '_id' in fullDocument) return { id: knownId.id, document: fullDocument };
  return { id: knownId.id, document: await lookup.currentDocument(collection, knownId.id) };
}

/** `{ id }` when the document names its `_id` (the wrapper tells an absent `_id` from one that is null). */
function idIn(document: Document | null | undefined): { id: unknown } | undefined {
  return document != null && '_id' in document ? { id: document._id } : undefined;
}

function noDocumentError(origin: EventOrigin, collection: string, clusterTime: BSON.Timestamp): Error {
  return new Error(`change event at ${canonicalEjson(clusterTime)} on ${origin.database}.${collection} names no document (no documentKey._id, no oplog entry)`);
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
