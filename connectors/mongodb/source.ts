/**
 * The MongoDB source: the steps of the token protocol (docs/design.md), run in order by
 * topology/source-runner.ts.
 *
 * - openLog(): opens the change streams (one per collection, or one for the database) at a cluster time
 *   read from the server first, and returns only once every stream is open on the server. Its position's
 *   resume tokens are, per stream, the post-batch resume token where the server gives one (MongoDB 4.0.7+),
 *   else the first event's `_id`; a stream with neither restarts at that cluster time
 *   (`startAtOperationTime`). The streams stay open and stream() goes on from them when it starts from
 *   the same position, so nothing written after openLog() is lost however long the snapshot takes.
 * - snapshot(): each collection in `_id` order, in keyset chunks (snapshot.ts), `parallelism` at once.
 * - readChunk(): one chunk of an incremental snapshot, between two cluster times (incremental-chunk.ts).
 * - stream(): changes as ChangeEvents (change-events.ts), a `commit` after each event (after the last
 *   event of a transaction, for events that carry lsid/txnNumber), and heartbeats: at most one `commit`
 *   per `heartbeatIntervalMs` at the newest resume tokens without captured changes (idle batches' post-batch
 *   resume tokens, changes of collections left out), so a quiet source's token keeps up with the oplog.
 *   A commit's position, and the cursor's boundary, is the lowest position the streams have reached
 *   (stream-reach.ts): up to it every stream has emitted every change, so an incremental snapshot's chunk
 *   placed there comes after every change it must, and a stream with no token of its own restarts there.
 *   `drop`, `rename`, `dropDatabase` and `invalidate` end the stream with a SourceMisconfiguredError
 *   (after a `commit` for the events before them): the source cannot follow a collection that is gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, type ChangeStream, type ChangeStreamDocument, type Db, type Document } from 'mongodb';
import { Observable, type Subscriber } from 'rxjs';
import type { IncrementalChunk, LogPosition, SnapshotItem, SourceConnector, StreamCursor, StreamItem } from '../../topology/source.ts';
import type { SourceToken, TableSnapshotProgress } from '../../topology/token.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import { HeartbeatPacer } from '../../topology/heartbeat.ts';
import { PositionLostError, SourceMisconfiguredError, UnreachableError } from '../../topology/errors.ts';
import { redactUrls } from '../../topology/redact.ts';
import { coversCollection, parseMongoSourceConfig, redactMessage, type MongoSourceConfig, type MongoSourceConfigInput } from './config.ts';
import { asPositionLost, openChangeStream, type OpenedChangeStream, type StreamSettings, type StreamStart, type StreamTarget } from './change-streams.ts';
import { snapshotDoneEvent, snapshotReadEvent, streamedEvent, type DocumentLookup, type EventOrigin, type StreamEnd } from './change-events.ts';
import { ServerDocumentLookup } from './document-lookup.ts';
import { chunkKey, readChunk } from './snapshot.ts';
import { readIncrementalChunk } from './incremental-chunk.ts';
import { ClusterClock, StreamReach } from './stream-reach.ts';
import {
  DATABASE_STREAM,
  clusterTimeOfResumeToken,
  decodeResumeToken,
  encodeResumeToken,
  formatPosition,
  fromTimestamp,
  lastPositionAt,
  mongoResumeOf,
  parsePosition,
  sameClusterTime,
  type ClusterTime,
  type MongoResume,
} from './position.ts';

/** MongoDB 6.0: post- and pre-images for change streams. */
const POST_IMAGES_WIRE_VERSION = 17;
/**
 * Pause after an empty batch before the next getMore. A real server already waits `maxAwaitTimeMS` for
 * new events (awaitData); mongo-java-server answers at once, so without it an idle stream would spin.
 */
const IDLE_PAUSE_MS = 25;
/**
 * What a standalone server's streams ask for instead of `updateLookup`. Only mongo-java-server has change
 * streams without a replica set, and its `updateLookup` reads the whole collection for each update event
 * (10 ms an event at 100k documents, in the getMore); there the source reads the documents itself, a
 * batch at a time by `_id` (document-lookup.ts), which gives what `updateLookup` gives.
 */
const STANDALONE_FULL_DOCUMENT = 'default';

interface ServerFacts {
  maxWireVersion: number;
  replicaSet: boolean;
}

/** The MongoDB source: a snapshot of the collections, then their change streams (see the module comment above). */
export class MongoSource implements SourceConnector {
  readonly connector = 'mongodb' as const;
  readonly name: string;
  private readonly config: MongoSourceConfig;
  private client: MongoClient | undefined;
  private facts: ServerFacts | undefined;
  /** The streams openLog() opened, handed to stream() when it starts from the same position. */
  private opened: { position: LogPosition; streams: Map<string, OpenedChangeStream> } | undefined;

  constructor(config: MongoSourceConfigInput) {
    this.config = parseMongoSourceConfig(config);
    this.name = this.config.name;
  }

  async check(): Promise<void> {
    const facts = await this.serverFacts();
    if (this.config.scope === 'database' && !facts.replicaSet) {
      throw new SourceMisconfiguredError(
        `source ${this.name}: scope: database needs a database-level change stream, which only a replica set or sharded cluster has; ` +
          `${redactUrls(this.config.url)} is a standalone server: use scope: collection`,
      );
    }
    if (this.config.fullDocument !== 'updateLookup' && facts.maxWireVersion < POST_IMAGES_WIRE_VERSION) {
      throw new SourceMisconfiguredError(
        `source ${this.name}: fullDocument: ${this.config.fullDocument} needs post-images (MongoDB 6.0+); the server's wire version is ` +
          `${facts.maxWireVersion}: use fullDocument: updateLookup`,
      );
    }
  }

  async tables(): Promise<string[]> {
    return (await this.collectionNames({})).filter((name) => coversCollection(this.config, name)).sort();
  }

  /** estimatedDocumentCount: the collection's metadata count, no scan (progress bars only). */
  async estimateRows(collections: readonly string[]): Promise<Record<string, number>> {
    const db = await this.database();
    const counts = await Promise.all(collections.map(async (name) => [name, await db.collection(name).estimatedDocumentCount()] as const));
    return Object.fromEntries(counts);
  }

  async openLog(): Promise<LogPosition> {
    await this.closeOpenedStreams();
    const startAtOperationTime = await this.readClusterTime();
    const streams = await this.openStreams({ startAtOperationTime, resumeTokens: {} });
    const resumeTokens: Record<string, string> = {};
    for (const [key, { stream }] of streams) {
      if (stream.resumeToken != null) resumeTokens[key] = encodeResumeToken(stream.resumeToken);
    }
    const position: LogPosition = { position: formatPosition(startAtOperationTime, 0), resume: { startAtOperationTime, resumeTokens } };
    this.opened = { position, streams };
    return position;
  }

  async canResume(token: SourceToken): Promise<boolean> {
    try {
      const streams = await this.openStreams(mongoResumeOf(token));
      await Promise.all([...streams.values()].map(({ stream }) => stream.close()));
      return true;
    } catch (error) {
      if (error instanceof PositionLostError) return false;
      throw error;
    }
  }

  snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl): Observable<SnapshotItem> {
    return new Observable<SnapshotItem>((subscriber) => {
      let stopped = false;
      const snapshotCollection = async (db: Db, collection: string) => {
        let state: TableSnapshotProgress = progress[collection] ?? { done: false, rows: 0, chunks: 0 };
        while (!stopped && !state.done) {
          const documents = await readChunk(db.collection(collection), state.lastKey, this.config.chunkSize);
          for (const document of documents) {
            if (stopped) return;
            subscriber.next({ kind: 'row', event: snapshotReadEvent(this.origin(), collection, document, from.position) });
            if (flow.paused) await flow.resumed();
          }
          const last = documents.at(-1);
          state = {
            done: documents.length < this.config.chunkSize,
            rows: state.rows + documents.length,
            chunks: state.chunks + (last === undefined ? 0 : 1),
            ...(last === undefined ? (state.lastKey === undefined ? {} : { lastKey: state.lastKey }) : { lastKey: chunkKey(last) }),
          };
          if (stopped) return;
          // Before the token that marks the collection done, so no restart can skip it.
          if (state.done) subscriber.next({ kind: 'tableDone', marker: snapshotDoneEvent(this.origin(), collection, from.position) });
          subscriber.next({ kind: 'chunkDone', table: collection, progress: state });
        }
      };
      const run = async () => {
        const db = await this.database();
        const collections = (await this.tables()).filter((collection) => progress[collection]?.done !== true);
        await inParallel(collections, this.config.parallelism, (collection) => snapshotCollection(db, collection));
        if (!stopped) subscriber.complete();
      };
      run().catch((error: unknown) => {
        if (!stopped) subscriber.error(this.redacted(error));
      });
      return () => {
        stopped = true;
      };
    });
  }

  stream(from: LogPosition, flow: FlowControl, cursor?: StreamCursor): Observable<StreamItem> {
    return new Observable<StreamItem>((subscriber) => {
      const run = new StreamRun(this, from, flow, subscriber);
      if (cursor) cursor.boundary = () => run.boundary();
      run.start(this.takeOpenedStreams(from)).catch((error: unknown) => run.fail(error));
      return () => run.stop();
    });
  }

  async readChunk(collection: string, afterKey: string | undefined, size: number): Promise<IncrementalChunk | undefined> {
    const facts = await this.serverFacts();
    const client = await this.connect();
    // mongo-java-server has no sessions, and needs none (incremental-chunk.ts).
    const session = facts.replicaSet ? client.startSession({ causalConsistency: true }) : undefined;
    try {
      const target = { collection: client.db(this.config.database).collection(collection), origin: this.origin(), session, clusterTime: () => this.readClusterTime() };
      const chunk = await readIncrementalChunk(target, afterKey, size);
      // Looked for after the read, so that a collection dropped while it was read does not pass for one read to its end.
      return (await this.collectionNames({ name: collection })).length > 0 ? chunk : undefined;
    } catch (error) {
      throw this.redacted(error);
    } finally {
      await session?.endSession();
    }
  }

  async close(): Promise<void> {
    await this.closeOpenedStreams();
    await this.client?.close();
    this.client = undefined;
  }

  /** @internal for StreamRun */
  origin(): EventOrigin {
    return { sourceName: this.name, database: this.config.database };
  }

  /** @internal for StreamRun */
  async settings(): Promise<StreamSettings> {
    const facts = await this.serverFacts();
    return {
      sourceName: this.name,
      fullDocument: this.config.fullDocument === 'updateLookup' && !facts.replicaSet ? STANDALONE_FULL_DOCUMENT : this.config.fullDocument,
      maxAwaitTimeMS: this.config.maxAwaitTimeMS,
      batchSize: this.config.batchSize,
      maxWireVersion: facts.maxWireVersion,
    };
  }

  /**
   * @internal for StreamRun: how its idle streams learn the cluster time on a server whose empty batches
   * carry no post-batch resume token. Only mongo-java-server has change streams on a standalone server.
   */
  async clusterClock(): Promise<ClusterClock | undefined> {
    const facts = await this.serverFacts();
    return facts.replicaSet ? undefined : new ClusterClock(() => this.readClusterTime());
  }

  /** @internal for StreamRun */
  heartbeatIntervalMs(): number {
    return this.config.heartbeatIntervalMs;
  }

  /** @internal for StreamRun: whether a change of this collection is the source's. */
  covers(collection: string): boolean {
    return coversCollection(this.config, collection);
  }

  /** @internal for StreamRun */
  async lookup(): Promise<DocumentLookup> {
    return new ServerDocumentLookup(await this.connect(), this.config.database);
  }

  /** @internal for StreamRun: opens every stream of the source from `resume`, in parallel. */
  async openStreams(resume: MongoResume): Promise<Map<string, OpenedChangeStream>> {
    const targets = await this.streamTargets();
    const settings = await this.settings();
    const opened = await Promise.allSettled(
      targets.map(async ([key, target]) => {
        const token = resume.resumeTokens[key];
        const start: StreamStart = token === undefined ? { startAtOperationTime: resume.startAtOperationTime } : { resumeToken: decodeResumeToken(token) };
        return [key, await openChangeStream(target, start, settings)] as const;
      }),
    );
    const streams = new Map<string, OpenedChangeStream>();
    for (const result of opened) if (result.status === 'fulfilled') streams.set(result.value[0], result.value[1]);
    const failure = opened.find((result) => result.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all([...streams.values()].map(({ stream }) => stream.close().catch(() => undefined)));
      throw this.redacted(failure.reason);
    }
    return streams;
  }

  /** @internal for StreamRun */
  async streamTargets(): Promise<Array<[string, StreamTarget]>> {
    const db = await this.database();
    if (this.config.scope === 'database') {
      return [[DATABASE_STREAM, { watched: db, pipeline: [], description: `database ${this.config.database}` }]];
    }
    return (await this.tables()).map((collection) => [
      collection,
      { watched: db.collection(collection), pipeline: [], description: `collection ${this.config.database}.${collection}` },
    ]);
  }

  /** @internal for StreamRun */
  redacted(error: unknown): unknown {
    if (error instanceof Error) error.message = redactMessage(error.message, this.config.url);
    return error;
  }

  /** The names of the database's collections (not views) that `filter` matches. */
  private async collectionNames(filter: Document): Promise<string[]> {
    const db = await this.database();
    const collections = await db.listCollections(filter, { nameOnly: true }).toArray();
    return collections.filter((collection) => collection.type === undefined || collection.type === 'collection').map((collection) => collection.name);
  }

  private takeOpenedStreams(from: LogPosition): Map<string, OpenedChangeStream> | undefined {
    const opened = this.opened;
    if (opened === undefined || JSON.stringify(opened.position) !== JSON.stringify(from)) return undefined;
    this.opened = undefined;
    return opened.streams;
  }

  private async closeOpenedStreams(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await Promise.all([...opened.streams.values()].map(({ stream }) => stream.close().catch(() => undefined)));
  }

  /**
   * A cluster time no later than anything written after this call: the `operationTime` (or `$clusterTime`)
   * of a command's reply where the server gives one (replica sets), else the newest oplog entry's `ts`.
   */
  private async readClusterTime(): Promise<ClusterTime> {
    const client = await this.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    const replied = reply.operationTime ?? (reply.$clusterTime as Document | undefined)?.clusterTime;
    if (replied !== undefined) return fromTimestamp(replied);
    const [newest] = await client.db('local').collection('oplog.rs').find({}, { projection: { ts: 1 } }).sort({ $natural: -1 }).limit(1).toArray();
    return newest === undefined ? { t: 0, i: 0 } : fromTimestamp(newest.ts);
  }

  private async serverFacts(): Promise<ServerFacts> {
    if (this.facts) return this.facts;
    const client = await this.connect();
    const reply = await client.db('admin').command({ isMaster: 1 });
    this.facts = { maxWireVersion: Number(reply.maxWireVersion ?? 0), replicaSet: typeof reply.setName === 'string' || reply.msg === 'isdbgrid' };
    return this.facts;
  }

  private async database(): Promise<Db> {
    return (await this.connect()).db(this.config.database);
  }

  private async connect(): Promise<MongoClient> {
    if (this.client) return this.client;
    const client = new MongoClient(this.config.url, { serverSelectionTimeoutMS: 10_000 });
    try {
      await client.connect();
    } catch (error) {
      throw new UnreachableError(
        `source ${this.name}: cannot reach MongoDB at ${redactUrls(this.config.url)}: ${redactMessage((error as Error).message, this.config.url)}`,
      );
    }
    this.client = client;
    return client;
  }
}

interface CommitPoint {
  key: string;
  token: string;
  position: string;
}

/** One stream() subscription: a loop per change stream, all feeding one subscriber. */
class StreamRun {
  private stopped = false;
  private readonly streams: ChangeStream[] = [];
  private readonly resume: MongoResume;
  /** Per stream, the token of the newest commit emitted. */
  private readonly committed: Record<string, string>;
  /** Per stream, a newer token without captured changes since, waiting for the next heartbeat. */
  private readonly idle = new Map<string, string>();
  private readonly heartbeats: HeartbeatPacer;
  private readonly reach = new StreamReach();
  /** Set on start, on a server without post-batch resume tokens (MongoSource.clusterClock). */
  private clock: ClusterClock | undefined;
  private lastTime: ClusterTime;
  private lastIndex: number;

  constructor(
    private readonly source: MongoSource,
    from: LogPosition,
    private readonly flow: FlowControl,
    private readonly subscriber: Subscriber<StreamItem>,
  ) {
    this.resume = mongoResumeOf(from);
    this.committed = { ...this.resume.resumeTokens };
    this.heartbeats = new HeartbeatPacer(source.heartbeatIntervalMs());
    const { time, index } = parsePosition(from.position);
    this.lastTime = time;
    this.lastIndex = index;
  }

  async start(alreadyOpen: Map<string, OpenedChangeStream> | undefined): Promise<void> {
    const streams = alreadyOpen ?? (await this.source.openStreams(this.resume));
    for (const { stream } of streams.values()) this.streams.push(stream);
    if (this.stopped) return this.stop();
    this.clock = await this.source.clusterClock();
    for (const key of streams.keys()) this.reach.reach(key, this.startPosition(key));
    // A collection no longer captured leaves the tokens: captured again later, it starts where a collection
    // new to the source does, not at a token the oplog may no longer reach.
    for (const key of Object.keys(this.committed)) if (!streams.has(key)) delete this.committed[key];
    const lookup = await this.source.lookup();
    const targets = new Map(await this.source.streamTargets());
    const settings = await this.source.settings();
    await Promise.all(
      [...streams].map(([key, opened]) =>
        this.follow(key, opened, lookup).catch((error: unknown) => {
          const target = targets.get(key);
          const from = this.committed[key] ?? formatPosition(this.resume.startAtOperationTime, 0);
          this.fail(target === undefined ? error : asPositionLost(error, target, settings, from));
        }),
      ),
    );
  }

  /** StreamCursor.boundary: asks for a newer cluster time too, so an idle stream's reach moves on. */
  boundary(): LogPosition | undefined {
    if (this.stopped) return undefined;
    this.clock?.want();
    const position = this.reach.boundary();
    return position === undefined ? undefined : resumablePosition(position, { ...this.committed, ...Object.fromEntries(this.idle) });
  }

  fail(error: unknown): void {
    if (this.stopped) return;
    this.subscriber.error(this.source.redacted(error));
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    for (const stream of this.streams) stream.close().catch(() => undefined);
  }

  private async follow(key: string, opened: OpenedChangeStream, lookup: DocumentLookup): Promise<void> {
    const { stream } = opened;
    let next: ChangeStreamDocument | null = opened.first;
    let openTransaction: (CommitPoint & { txId: string }) | undefined;
    while (!this.stopped) {
      // Read before the getMore below, which sees every write at or before it.
      const clusterTime = this.clock?.known;
      const change = next ?? (await stream.tryNext());
      next = null;
      if (this.stopped) return;
      if (change === null) {
        // An empty batch: every transaction before it is complete, and its post-batch resume token is newer.
        this.reach.release(key);
        if (openTransaction) this.commit(openTransaction);
        openTransaction = undefined;
        this.idleBatch(key, stream, clusterTime);
        await sleep(IDLE_PAUSE_MS);
        continue;
      }
      this.reach.hold(key);
      const position = this.nextPosition(change.clusterTime === undefined ? this.lastTime : fromTimestamp(change.clusterTime));
      const collection = collectionOf(change) ?? key;
      const result = this.source.covers(collection) ? await streamedEvent(this.source.origin(), change, collection, position, lookup) : undefined;
      const point: CommitPoint = { key, token: encodeResumeToken(change._id), position };
      const txId = result !== undefined && 'op' in result ? result.source.txId : undefined;
      if (openTransaction && openTransaction.txId !== txId) this.commit(openTransaction);
      openTransaction = undefined;
      if (result === undefined) {
        // A collection left out (database scope): its change moves the token only as a heartbeat.
        this.reach.release(key);
        this.reach.reach(key, position);
        this.idleAt(key, point.token);
        continue;
      }
      if (!('op' in result)) {
        this.reach.release(key);
        this.commit(point);
        throw streamEndError(this.source.name, result, position);
      }
      this.idle.delete(key);
      this.subscriber.next({ kind: 'change', event: result });
      if (txId === undefined) {
        this.reach.release(key);
        this.commit(point);
      } else {
        openTransaction = { ...point, txId };
      }
      if (this.flow.paused) await this.flow.resumed();
    }
  }

  /**
   * Where the stream `key` starts, everything before having been emitted: its resume token's cluster time,
   * or the resume's start (a stream with no token starts there).
   */
  private startPosition(key: string): string {
    const start = formatPosition(this.resume.startAtOperationTime, 0);
    const token = this.resume.resumeTokens[key];
    const tokenTime = token === undefined ? undefined : clusterTimeOfResumeToken(decodeResumeToken(token));
    const afterToken = tokenTime === undefined ? start : formatPosition(tokenTime, 0);
    return afterToken > start ? afterToken : start;
  }

  /**
   * An empty batch: the stream has read up to its post-batch resume token's cluster time, and through a
   * cluster time read before the batch's getMore. The token, if it moved on, waits for the next heartbeat.
   */
  private idleBatch(key: string, stream: ChangeStream, clusterTime: ClusterTime | undefined): void {
    if (clusterTime !== undefined) this.reach.reach(key, lastPositionAt(clusterTime));
    if (stream.resumeToken == null) return;
    const tokenTime = clusterTimeOfResumeToken(stream.resumeToken);
    if (tokenTime !== undefined) this.reach.reach(key, formatPosition(tokenTime, 0));
    const token = encodeResumeToken(stream.resumeToken);
    if (token !== this.committed[key]) this.idleAt(key, token);
  }

  /**
   * A token after every captured change of its stream: when a heartbeat is due, one commit takes it and the
   * other streams' waiting tokens (each is after its own stream's last change, all of them committed).
   */
  private idleAt(key: string, token: string): void {
    this.idle.set(key, token);
    if (this.stopped || !this.heartbeats.beat()) return;
    for (const [waitingKey, waitingToken] of this.idle) this.committed[waitingKey] = waitingToken;
    this.idle.clear();
    this.emitCommit(true);
  }

  private commit(point: CommitPoint): void {
    if (this.stopped) return;
    this.committed[point.key] = point.token;
    this.idle.delete(point.key);
    this.reach.reach(point.key, point.position);
    this.heartbeats.moved();
    // Another stream has not reached this commit yet: on a server without post-batch resume tokens only a
    // newer cluster time can tell that an idle one has.
    if (this.floor() < point.position) this.clock?.want();
    this.emitCommit(false);
  }

  private emitCommit(heartbeat: boolean): void {
    const position = resumablePosition(this.floor(), { ...this.committed });
    this.subscriber.next(heartbeat ? { kind: 'commit', position, heartbeat } : { kind: 'commit', position });
  }

  /** The position up to which every stream has emitted every change (only a started stream commits). */
  private floor(): string {
    const floor = this.reach.floor();
    if (floor === undefined) throw new Error('a commit before any change stream started');
    return floor;
  }

  private nextPosition(time: ClusterTime): string {
    this.lastIndex = sameClusterTime(time, this.lastTime) ? this.lastIndex + 1 : 1;
    this.lastTime = time;
    return formatPosition(this.lastTime, this.lastIndex);
  }
}

/** A position to restart at: a stream with no token of its own starts at the position's cluster time. */
function resumablePosition(position: string, resumeTokens: Record<string, string>): LogPosition {
  const resume: MongoResume = { startAtOperationTime: parsePosition(position).time, resumeTokens };
  return { position, resume };
}

function streamEndError(sourceName: string, end: StreamEnd, position: string): SourceMisconfiguredError {
  const what = end.operationType === 'invalidate' ? `the change stream of ${end.collection} was invalidated` : `${end.collection} saw ${end.operationType}`;
  return new SourceMisconfiguredError(
    `source ${sourceName}: ${what} at position ${position}, so the stream cannot go on; ` +
      `exclude the collection or reset the source's token (snapshot again) to follow what replaced it`,
  );
}

/** The collection a change names (`ns.coll`); undefined for database-wide events and servers that send no `ns`. */
function collectionOf(change: ChangeStreamDocument): string | undefined {
  const ns = (change as { ns?: { coll?: string } }).ns;
  return ns?.coll;
}

/** Runs `work` on every item, at most `limit` at once; rejects with the first failure. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < items.length) await work(items[nextIndex++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
