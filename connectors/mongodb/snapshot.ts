/**
 * Snapshot of one collection in `_id` order, in chunks read by keyset (no lock, no skip): each chunk is
 * the `chunkSize` documents after the last `_id` of the chunk before.
 *
 * A query's `{_id: {$gt: x}}` compares within x's BSON type bracket only (server manual, "Comparison
 * Query Operators": type bracketing), while `sort({_id: 1})` orders across types. So a chunk first reads
 * with `$gt` (indexed), and when that bracket runs out, goes on with `$expr: {$gt: ['$_id', x]}`, which
 * compares in the full BSON order and so finds the `_id`s of the brackets after it.
 */
import { BSON, type Collection, type Document, type FindOptions } from 'mongodb';
import { TYPE_PRESERVING_READ, canonicalEjson } from './change-events.ts';

/** How a chunk's queries read: an incremental chunk's run in a session, majority-committed (incremental-chunk.ts). */
export type ChunkReadOptions = Pick<FindOptions, 'session' | 'readConcern'>;

export async function readChunk(collection: Collection, afterKey: string | undefined, chunkSize: number, options: ChunkReadOptions = {}): Promise<Document[]> {
  if (afterKey === undefined) return readSorted(collection, {}, chunkSize, options);
  const after: unknown = BSON.EJSON.parse(afterKey, { relaxed: false });
  const sameBracket = await readSorted(collection, { _id: { $gt: after } }, chunkSize, options);
  if (sameBracket.length === chunkSize) return sameBracket;
  const boundary: unknown = sameBracket.at(-1)?._id ?? after;
  const laterBrackets = await readSorted(collection, { $expr: { $gt: ['$_id', { $literal: boundary }] } }, chunkSize - sameBracket.length, options);
  return sameBracket.concat(laterBrackets);
}

/** The `lastKey` of a chunk (topology/token.ts TableSnapshotProgress): canonical Extended JSON of its last `_id`. */
export function chunkKey(document: Document): string {
  return canonicalEjson(document._id);
}

function readSorted(collection: Collection, filter: Document, limit: number, options: ChunkReadOptions): Promise<Document[]> {
  return collection.find(filter, { ...TYPE_PRESERVING_READ, ...options }).sort({ _id: 1 }).limit(limit).batchSize(limit).toArray();
}
