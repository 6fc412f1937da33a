/**
 * MongoDB source positions.
 *
 * `LogPosition.position` (and every event's `source.position`) is `TTTTTTTTTT.IIIIIIIIII.NNNNNNNN`: the
 * event's cluster time (the oplog Timestamp: seconds `t` and increment `i`, each zero-padded to 10 digits,
 * enough for any unsigned 32-bit value) and an index (8 digits) that orders events sharing one cluster
 * time (the operations of one transaction). Plain string order is therefore source order.
 * The position a stream is opened at has index 0, so every event streamed from it is newer; the last
 * index ({@link lastPositionAt}) comes after every event at its cluster time.
 *
 * `LogPosition.resume` is a {@link MongoResume}: where each change stream restarts.
 */
import { BSON, type ResumeToken } from 'mongodb';
import type { LogPosition } from '../../topology/source.ts';

export interface ClusterTime {
  t: number;
  i: number;
}

/**
 * - `startAtOperationTime`: a cluster time before which every stream has emitted every change (the time
 *   the streams were opened at, then of each commit's position); a stream with no token of its own (a
 *   collection newly captured, or one with no event yet on a server without post-batch resume tokens)
 *   starts here (the Change Streams spec's `startAtOperationTime`, inclusive).
 * - `resumeTokens`: per watched namespace (a collection name, or {@link DATABASE_STREAM} for a
 *   database-scope stream), the canonical Extended JSON of the newest resume token whose events are all
 *   emitted before this position was.
 */
export interface MongoResume extends Record<string, unknown> {
  startAtOperationTime: ClusterTime;
  resumeTokens: Record<string, string>;
}

/** The key of a database-scope stream's token in {@link MongoResume.resumeTokens}. */
export const DATABASE_STREAM = '*';

/** The highest index the position's 8 digits hold. */
const LAST_INDEX = 99_999_999;

export function formatPosition(time: ClusterTime, index: number): string {
  return `${pad(time.t, 10)}.${pad(time.i, 10)}.${pad(index, 8)}`;
}

/** The position after every event at `time`: what a read that saw every write at or before `time` covers. */
export function lastPositionAt(time: ClusterTime): string {
  return formatPosition(time, LAST_INDEX);
}

export function parsePosition(position: string): { time: ClusterTime; index: number } {
  const match = /^(\d{10})\.(\d{10})\.(\d{8})$/.exec(position);
  if (!match) throw new Error(`not a MongoDB source position: ${JSON.stringify(position)}`);
  return { time: { t: Number(match[1]), i: Number(match[2]) }, index: Number(match[3]) };
}

export function toTimestamp(time: ClusterTime): BSON.Timestamp {
  return new BSON.Timestamp({ t: time.t, i: time.i });
}

export function fromTimestamp(timestamp: BSON.Timestamp): ClusterTime {
  return { t: timestamp.high >>> 0, i: timestamp.low >>> 0 };
}

export function sameClusterTime(a: ClusterTime, b: ClusterTime): boolean {
  return a.t === b.t && a.i === b.i;
}

export function encodeResumeToken(token: ResumeToken): string {
  return BSON.EJSON.stringify(token, { relaxed: false });
}

export function decodeResumeToken(text: string): ResumeToken {
  return BSON.EJSON.parse(text, { relaxed: false }) as ResumeToken;
}

/**
 * The cluster time a resume token stands for, read from its `_data` hex string. A real server's token is
 * a KeyString whose first value is the cluster time: type byte 0x82 (130, Timestamp) then `t` and `i`
 * as big-endian 32-bit words. mongo-java-server's token is the bare 64-bit `t`/`i` pair (16 hex digits).
 * Undefined when the token has neither shape.
 */
export function clusterTimeOfResumeToken(token: ResumeToken): ClusterTime | undefined {
  const data = (token as { _data?: unknown })._data;
  if (typeof data !== 'string' || !/^[0-9a-fA-F]+$/.test(data)) return undefined;
  const words = data.startsWith('82') && data.length >= 18 ? data.slice(2, 18) : data.length === 16 ? data : undefined;
  if (words === undefined) return undefined;
  return { t: parseInt(words.slice(0, 8), 16), i: parseInt(words.slice(8, 16), 16) };
}

export function mongoResumeOf(position: LogPosition): MongoResume {
  const { startAtOperationTime, resumeTokens } = position.resume as Partial<MongoResume>;
  if (startAtOperationTime === undefined || resumeTokens === undefined) {
    throw new Error(`not a MongoDB source position (resume is ${JSON.stringify(position.resume)})`);
  }
  return { startAtOperationTime, resumeTokens };
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
