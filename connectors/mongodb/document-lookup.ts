/**
 * The reads behind change-events.ts DocumentLookup: the document of an update event that arrives
 * without it, and the `_id` of one that arrives without that too.
 *
 * Only mongo-java-server 1.47 needs the `_id` from the oplog (its update events carry the modifier in
 * `documentKey` and no `_id` in `fullDocument`). Its oplog has no index, so every query reads all of it
 * (160 ms at 650k entries, and the oplog is never truncated): one query per update event held streaming
 * to a few updates a second. So the first such event reads the oplog's next {@link OPLOG_READ_AHEAD}
 * update entries of its collection at once, then their documents in one `$in` query, and the events
 * after it take theirs from that read-ahead.
 *
 * A document read after its update's oplog entry is what `updateLookup` gives anyway: the document as
 * it is at some moment at or after the event (a later event of it follows in the stream); null when it
 * is gone by then (its `delete` follows).
 */
import { BSON, type Document, type MongoClient } from 'mongodb';
import { TYPE_PRESERVING_READ, canonicalEjson, type DocumentLookup, type LookedUpUpdate } from './change-events.ts';
import { fromTimestamp } from './position.ts';

/** Update entries (and documents) read ahead per oplog query: bounds the memory the read-ahead holds. */
export const OPLOG_READ_AHEAD = 5000;

export class ServerDocumentLookup implements DocumentLookup {
  /** Per collection, the read-ahead: oplog time (`t.i`) → the update there, in oplog order. */
  private readonly readAhead = new Map<string, Map<string, LookedUpUpdate>>();

  constructor(
    private readonly client: MongoClient,
    private readonly database: string,
  ) {}

  currentDocument(collection: string, id: unknown): Promise<Document | null> {
    return this.client.db(this.database).collection(collection).findOne({ _id: id as Document['_id'] }, TYPE_PRESERVING_READ);
  }

  async updateFromOplog(collection: string, clusterTime: BSON.Timestamp): Promise<LookedUpUpdate | undefined> {
    const at = timeKey(clusterTime);
    let ahead = this.readAhead.get(collection);
    if (ahead?.has(at) !== true) {
      ahead = await this.readUpdatesFrom(collection, clusterTime);
      this.readAhead.set(collection, ahead);
    }
    const found = ahead.get(at);
    // A stream delivers in oplog order: what comes before this entry, and the entry itself, is used up.
    for (const key of ahead.keys()) {
      ahead.delete(key);
      if (key === at) break;
    }
    return found;
  }

  private async readUpdatesFrom(collection: string, clusterTime: BSON.Timestamp): Promise<Map<string, LookedUpUpdate>> {
    const entries = await this.client
      .db('local')
      .collection('oplog.rs')
      .find({ ns: `${this.database}.${collection}`, op: 'u', ts: { $gte: clusterTime } }, { ...TYPE_PRESERVING_READ, projection: { ts: 1, o2: 1 } })
      .sort({ $natural: 1 })
      .limit(OPLOG_READ_AHEAD)
      .toArray();
    const ids = new Map<string, unknown>();
    for (const entry of entries) {
      const id = (entry.o2 as Document | undefined)?._id;
      if (id !== undefined) ids.set(canonicalEjson(id), id);
    }
    const documents = new Map<string, Document>();
    if (ids.size > 0) {
      const found = this.client
        .db(this.database)
        .collection(collection)
        .find({ _id: { $in: [...ids.values()] as Document['_id'][] } }, TYPE_PRESERVING_READ);
      for await (const document of found) documents.set(canonicalEjson(document._id), document);
    }
    const updates = new Map<string, LookedUpUpdate>();
    for (const entry of entries) {
      const id: unknown = (entry.o2 as Document | undefined)?._id;
      if (id !== undefined) updates.set(timeKey(entry.ts as BSON.Timestamp), { id, document: documents.get(canonicalEjson(id)) ?? null });
    }
    return updates;
  }
}

function timeKey(timestamp: BSON.Timestamp): string {
  const { t, i } = fromTimestamp(timestamp);
  return `${t}.${i}`;
}
