/**
 * Opening change streams as the Change Streams spec (MongoDB driver specifications, change-streams.md)
 * and the server manual describe, with the token protocol's needs on top:
 *
 * - "startAfter: Similar to resumeAfter, but will allow you to start after an invalidated event"
 *   (server 4.2+, wire version 8): used where the server supports it, else `resumeAfter`.
 * - A token the server no longer knows (ChangeStreamFatalError 280 "resume token was not found",
 *   InvalidResumeToken 260) falls back to `startAtOperationTime` at the token's own cluster time
 *   (inclusive: the token's event may come again, which idempotent apply absorbs).
 * - ChangeStreamHistoryLost (286): the oplog no longer reaches back to the token. Not resumable
 *   ("the driver MUST NOT attempt to resume" on an error without the ResumableChangeStreamError label):
 *   raised as PositionLostError.
 * - Resumable errors during iteration (network, elections, CursorNotFound) are resumed by the driver
 *   itself from its cached resume token, per the spec.
 *
 * A stream is only known to capture once its aggregate (and first getMore) reached the server, so
 * `openChangeStream` returns after the first `tryNext()`, with the change that call may have read.
 */
import { MongoServerError, type ChangeStream, type ChangeStreamDocument, type ChangeStreamOptions, type Collection, type Db, type Document, type ResumeToken } from 'mongodb';
import { PositionLostError } from '../../topology/errors.ts';
import { clusterTimeOfResumeToken, encodeResumeToken, toTimestamp, type ClusterTime } from './position.ts';
import { TYPE_PRESERVING_READ } from './change-events.ts';

export const CHANGE_STREAM_HISTORY_LOST = 286;
const CHANGE_STREAM_FATAL_ERROR = 280;
const INVALID_RESUME_TOKEN = 260;
/** Wire version of MongoDB 4.2, the first with `startAfter`. */
const START_AFTER_WIRE_VERSION = 8;

/** Where a stream starts: after a resume token, at a cluster time (inclusive), or now. */
export type StreamStart = { resumeToken: ResumeToken } | { startAtOperationTime: ClusterTime } | 'now';

export interface StreamTarget {
  watched: Collection | Db;
  pipeline: Document[];
  /** For messages, e.g. `collection shop.orders`. */
  description: string;
}

export interface StreamSettings {
  sourceName: string;
  /** `default`: update events come without the document; the source looks it up itself. */
  fullDocument: 'default' | 'updateLookup' | 'whenAvailable' | 'required';
  maxAwaitTimeMS: number;
  batchSize: number;
  maxWireVersion: number;
}

export interface OpenedChangeStream {
  stream: ChangeStream;
  /** The change read while making sure the stream is open on the server; null when there was none. */
  first: ChangeStreamDocument | null;
}

export async function openChangeStream(target: StreamTarget, start: StreamStart, settings: StreamSettings): Promise<OpenedChangeStream> {
  if (start === 'now' || 'startAtOperationTime' in start) return watchUntilOpen(target, start, settings);
  const { resumeToken } = start;
  try {
    const opened = await watchUntilOpen(target, start, settings);
    // The token's own event is not part of the stream after it (mongo-java-server 1.47 returns it again).
    if (opened.first !== null && encodeResumeToken(opened.first._id) === encodeResumeToken(resumeToken)) {
      opened.first = await opened.stream.tryNext();
    }
    return opened;
  } catch (error) {
    if (!isUnknownResumeToken(error)) throw asPositionLost(error, target, settings, encodeResumeToken(resumeToken));
    const clusterTime = clusterTimeOfResumeToken(resumeToken);
    if (clusterTime === undefined) {
      throw new PositionLostError(
        `source ${settings.sourceName}: MongoDB does not know the resume token ${encodeResumeToken(resumeToken)} of ${target.description}, ` +
          `and the token names no cluster time to start at instead; ${WHEN_NEEDED_ADVICE}`,
        { cause: error },
      );
    }
    return watchUntilOpen(target, { startAtOperationTime: clusterTime }, settings);
  }
}

/** The error to raise for a failure of a change stream: PositionLostError for history lost, else as is. */
export function asPositionLost(error: unknown, target: StreamTarget, settings: StreamSettings, from: string): unknown {
  if (serverErrorCode(error) !== CHANGE_STREAM_HISTORY_LOST) return error;
  return new PositionLostError(
    `source ${settings.sourceName}: MongoDB no longer has the change-stream history of ${target.description} from ${from} ` +
      `(ChangeStreamHistoryLost, error 286: the oplog no longer reaches back that far); ${WHEN_NEEDED_ADVICE}`,
    { cause: error },
  );
}

const WHEN_NEEDED_ADVICE = 'with snapshot: when_needed the source takes a fresh snapshot, otherwise reset the source\'s token';

function isUnknownResumeToken(error: unknown): boolean {
  const code = serverErrorCode(error);
  return code === CHANGE_STREAM_FATAL_ERROR || code === INVALID_RESUME_TOKEN;
}

/**
 * The server's error code as a number. The driver decodes a change stream's error replies with the
 * stream's BSON options, so with `promoteValues: false` (needed to keep every value's BSON type) the code
 * arrives as an Int32 object.
 */
function serverErrorCode(error: unknown): number | undefined {
  return error instanceof MongoServerError && error.code !== undefined ? Number(error.code) : undefined;
}

async function watchUntilOpen(target: StreamTarget, start: StreamStart, settings: StreamSettings): Promise<OpenedChangeStream> {
  const stream = target.watched.watch(target.pipeline, { ...streamOptions(settings), ...startOptions(start, settings) });
  try {
    return { stream, first: await stream.tryNext() };
  } catch (error) {
    await stream.close().catch(() => undefined);
    throw error;
  }
}

function streamOptions(settings: StreamSettings): ChangeStreamOptions {
  const postImages = settings.fullDocument === 'whenAvailable' || settings.fullDocument === 'required';
  return {
    ...TYPE_PRESERVING_READ,
    fullDocument: settings.fullDocument,
    ...(postImages ? { fullDocumentBeforeChange: 'whenAvailable' as const } : {}),
    maxAwaitTimeMS: settings.maxAwaitTimeMS,
    batchSize: settings.batchSize,
  };
}

function startOptions(start: StreamStart, settings: StreamSettings): ChangeStreamOptions {
  if (start === 'now') return {};
  if ('startAtOperationTime' in start) return { startAtOperationTime: toTimestamp(start.startAtOperationTime) };
  return settings.maxWireVersion >= START_AFTER_WIRE_VERSION ? { startAfter: start.resumeToken } : { resumeAfter: start.resumeToken };
}
