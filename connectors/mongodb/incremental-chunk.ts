/**
 * One chunk of an incremental snapshot (topology/source.ts readChunk and IncrementalChunk), read while the
 * change streams run: the snapshot's keyset query (snapshot.ts) between two cluster times, `low` read
 * before it and `high` after, both as positions after every event at their time (position.ts
 * lastPositionAt). The chunk's guarantee: the query saw every write at or before `low` and none after
 * `high`.
 *
 * - Replica sets and sharded clusters: `low` is the server's last applied write (ping's `operationTime`).
 *   A plain read after it could still miss a write at or before it: a primary commits concurrent writes out
 *   of timestamp order, so an uncommitted one may sit below its last applied time. So the query reads
 *   majority-committed data in a causally consistent session whose operation time is `low`: the driver
 *   sends it as `afterClusterTime`, and the server reads a majority snapshot at or after it, which holds
 *   every write up to it. (The initial snapshot needs none of this: its stream opened before and replays
 *   whatever its reads missed.) `high` is read after the query, from the primary: its last applied write is
 *   at or after any majority snapshot.
 * - mongo-java-server (standalone, no sessions, read concerns ignored): it changes a document before it
 *   appends the change's oplog entry, under the oplog's lock and stamped in append order, and `low` is its
 *   newest oplog entry, so a query after it sees every write at or before `low`. A write the query sees
 *   may have its entry appended after `high`; its event then follows the chunk, at a later position, and
 *   writes what the chunk already holds.
 */
import type { ClientSession, Collection } from 'mongodb';
import type { IncrementalChunk } from '../../topology/source.ts';
import { snapshotReadEvent, type EventOrigin } from './change-events.ts';
import { lastPositionAt, toTimestamp, type ClusterTime } from './position.ts';
import { chunkKey, readChunk } from './snapshot.ts';

export interface ChunkTarget {
  collection: Collection;
  origin: EventOrigin;
  /** The source's cluster time read (MongoSource.readClusterTime). */
  clusterTime(): Promise<ClusterTime>;
  /** A causally consistent session where the server has sessions (replica sets, sharded clusters). */
  session: ClientSession | undefined;
}

/** At most `size` documents after `afterKey` in `_id` order, as `r` events at `high`, with their window. */
export async function readIncrementalChunk(target: ChunkTarget, afterKey: string | undefined, size: number): Promise<IncrementalChunk> {
  const { collection, origin, session } = target;
  const low = await target.clusterTime();
  session?.advanceOperationTime(toTimestamp(low));
  const documents = await readChunk(collection, afterKey, size, session === undefined ? {} : { session, readConcern: { level: 'majority' } });
  const high = lastPositionAt(await target.clusterTime());
  const last = documents.at(-1);
  return {
    rows: documents.map((document) => snapshotReadEvent(origin, collection.collectionName, document, high)),
    lastKey: last === undefined ? undefined : chunkKey(last),
    done: documents.length < size,
    low: lastPositionAt(low),
    high,
    db: origin.database,
    tableName: collection.collectionName,
  };
}
