import type { Observable, Subscription } from 'rxjs';
import type { LogPosition, SnapshotItem, SourceConnector, StreamCursor, StreamItem } from './source.ts';
import type { IncrementalSnapshotProgress, SourceToken, TableSnapshotProgress, TokenPhase, TokenStore } from './token.ts';
import type { FlowControl } from './flow-control.ts';
import type { BatchWriter } from './change-writer.ts';
import { OperatorStage } from './operator-stage.ts';
import { refusedSourceEvent } from './dead-letter.ts';
import { BoundaryBatcher, type MarkerRoute } from './boundary-batcher.ts';
import { PositionLostError, TokenCommitError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';
import type { PipelineMetrics } from './metrics.ts';
import { capturedName, IncrementalSnapshot } from './incremental-snapshot.ts';
import type { ChangeEvent, TableSchema } from './change-event.ts';
import type { Notification, Notifier } from './notifications.ts';
import type { ReceivedSignal, SignalInbox } from './signals.ts';
import { spreadSnapshot } from './spread-snapshot.ts';
import type { Transport } from './transport.ts';

/**
 * - initial: snapshot on first start (no token), then stream; afterwards the token decides.
 * - never: never snapshot; stream from where the log is on first start.
 * - always: snapshot again on every start (a token in snapshot phase still resumes its snapshot).
 * - when_needed: as initial, and a fresh snapshot when the token's log position is gone.
 */
export type SnapshotMode = 'initial' | 'never' | 'always' | 'when_needed';

export interface SourceRunnerOptions {
  pipeline: string;
  connector: SourceConnector;
  tokens: TokenStore;
  writer: BatchWriter;
  flow: FlowControl;
  snapshot?: SnapshotMode;
  stage?: OperatorStage;
  /** Where snapshot end markers go: the repartition topic; undefined (capture only): they are dropped. */
  markers?: MarkerRoute;
  /** Events per write (and per Kafka transaction). */
  maxBatch?: number;
  /** Aborting stops reading, writes what the latest token covers, and resolves. */
  signal?: AbortSignal;
  log?: Logger;
  /** Told the source's phase and snapshot plan (progress bars, health). */
  metrics?: PipelineMetrics;
  /** Rows per incremental snapshot chunk (default 10 000). */
  chunkSize?: number;
  /** Where the source's signals (incremental snapshot requests) arrive; none: the source takes no requests. */
  signals?: SignalInbox;
  /** Where snapshot notifications go (besides metrics). */
  notifier?: Notifier;
  /**
   * Spread the initial snapshot over the pipeline's processes (topology/spread-snapshot.ts): key ranges of
   * `rowsPerRange` rows go to the work topic on `transport`, read by every process's SnapshotWorker.
   */
  spread?: { transport: Transport; rowsPerRange: number };
  /**
   * Called once the position the source will stream from is durable (its first token committed, or a
   * stored token it resumes from), before any snapshot row is read: a change committed on the source
   * from then on is captured.
   */
  onCapturing?: () => void;
}

export const DEFAULT_CHUNK_SIZE = 10_000;
/** How often a stream with nothing to emit is asked for its position while a chunk or a token waits for one. */
const IDLE_BOUNDARY_POLL_MS = 20;

/**
 * The token protocol (docs/design.md), once for every connector:
 * first start: open the log → commit a 'snapshot' token and wait for its ack → snapshot, storing per-table
 * progress as chunks finish → commit a 'streaming' token → stream, committing a token at each transaction
 * boundary once the events before it are durable. On restart the latest token decides where to go on.
 */
export async function runSource(options: SourceRunnerOptions): Promise<void> {
  const { connector, tokens } = options;
  const mode = options.snapshot ?? 'initial';
  let token = await tokens.latest(connector.name);
  if (token !== undefined && !(await connector.canResume(token))) {
    if (mode !== 'when_needed') {
      throw new PositionLostError(
        `source ${connector.name}: the log at its token's position ${token.position} is gone (binlog purged or change-stream history lost); ` +
          `set snapshot: when_needed to take a fresh snapshot, or reset the source's token`,
      );
    }
    token = undefined;
  }
  const freshSnapshot = mode === 'always' && token?.phase !== 'snapshot';
  if (token === undefined || freshSnapshot) {
    if (mode === 'never') token = await commitTokenBeforeStreaming(options);
    else token = await commitTokenBeforeSnapshot(options);
  }
  options.onCapturing?.();
  const session = new SourceSession(options, token);
  options.signals?.attach((received) => session.takeSignal(received));
  try {
    if (token.phase === 'snapshot') token = await snapshotFromToken(options, session, token);
    if (options.signal?.aborted) return;
    await session.reconcileCapturedTables(mode !== 'never');
    options.metrics?.sourcePhase(connector.name, 'streaming');
    logOf(options).info({ source: connector.name, position: token.position }, 'streaming');
    await streamFromToken(options, session, token);
  } finally {
    session.stop();
    options.signals?.close(new Error(`source ${connector.name} stopped in this process`));
  }
}

/**
 * What a running source keeps besides its log position, all of it in every token it writes: the tables it
 * captures and since when, the incremental snapshots not finished, and the newest signal taken. Takes
 * signals, and snapshots tables newly matched by `include` incrementally.
 */
class SourceSession {
  /** Never changed in place (a new object on each change): the token store writes it only when it is another object. */
  captured: Readonly<Record<string, number>> | undefined;
  private signalOffset: string | undefined;
  readonly incremental: IncrementalSnapshot;
  /** Called once the next token is durable (taken signals wait for it). */
  private awaitingToken: Array<() => void> = [];
  /** A token is wanted at the stream's next boundary even without a change (a signal was taken). */
  tokenWanted = false;
  /** Wakes the stream's idle poll: set by streamFromToken. */
  wake: () => void = () => {};
  /** Per request id, the tables finished so far, for its `incremental-finished` notification. */
  private readonly snapshottedTables = new Map<string, string[]>();

  constructor(
    private readonly options: SourceRunnerOptions,
    token: SourceToken,
  ) {
    this.captured = token.captured;
    this.signalOffset = token.signalOffset;
    this.incremental = new IncrementalSnapshot({
      connector: options.connector,
      chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
      requests: token.incremental ?? [],
      onChunkRead: () => this.wake(),
      onTableRefused: (request, reason) => {
        logOf(options).warn({ source: options.connector.name, table: request.table, reason }, 'incremental snapshot of a table refused');
        this.tokenWanted = true;
        const last = this.isLastOf(request);
        // After the token that drops it (and so after the request's acceptance, which waits for an earlier or the same token).
        this.awaitingToken.push(() => {
          this.notify({ type: 'incremental-table-refused', id: request.id, table: request.table, reason });
          this.tableFinished(request, false, last);
        });
        this.wake();
      },
      onError: (error) => this.fail(error),
    });
  }

  /** Set by the stream: stops the source with a read's error. */
  fail: (error: unknown) => void = () => {};

  token(phase: TokenPhase, at: LogPosition, snapshot: Record<string, TableSnapshotProgress> | undefined): SourceToken {
    const incremental = this.incremental.pending();
    return {
      ...makeToken(this.options, phase, at, snapshot),
      ...(incremental.length > 0 ? { incremental } : {}),
      ...(this.captured === undefined ? {} : { captured: this.captured }),
      ...(this.signalOffset === undefined ? {} : { signalOffset: this.signalOffset }),
    };
  }

  /** Hands `token` to the batcher, with what waits for it to be durable (and `written`). */
  boundary(batcher: BoundaryBatcher, token: SourceToken, written?: () => void): void {
    const waiting = this.awaitingToken;
    this.awaitingToken = [];
    this.tokenWanted = false;
    this.options.metrics?.incrementalProgress(this.options.connector.name, token.incremental ?? []);
    batcher.boundary(token, () => {
      for (const callback of waiting) callback();
      written?.();
    });
  }

  /**
   * A table the stream brings that is not captured yet (created while streaming) is captured from now on,
   * so that a restart does not take it for a table newly matched by `include`. Checked once per schema
   * object (shared by a table's events), not per event.
   */
  streamed(event: ChangeEvent): void {
    const { schema } = event;
    if (schema !== undefined && this.seenSchemas.has(schema)) return;
    if (schema !== undefined) this.seenSchemas.add(schema);
    const name = capturedName(event.source);
    if (this.captured !== undefined && !(name in this.captured)) this.captured = { ...this.captured, [name]: Date.now() };
  }

  private readonly seenSchemas = new WeakSet<TableSchema>();

  /** The initial snapshot is done: its tables are captured from now on (tables captured before keep their time). */
  snapshotDone(tables: readonly string[]): void {
    const now = Date.now();
    this.captured = Object.fromEntries(tables.map((table) => [table, this.captured?.[table] ?? now]));
  }

  /**
   * Tables matched by `include` that the token does not list as captured are captured from now on and,
   * unless `snapshotAdded` is false (snapshot: never), snapshotted incrementally while the rest streams;
   * tables no longer matched stop being captured. A token from before captured tables were recorded counts
   * every table matched now as captured.
   */
  async reconcileCapturedTables(snapshotAdded: boolean): Promise<void> {
    const { connector } = this.options;
    const log = logOf(this.options);
    const tables = await connector.tables();
    const now = Date.now();
    if (this.captured === undefined) {
      this.captured = Object.fromEntries(tables.map((table) => [table, now]));
      return;
    }
    const gone = Object.keys(this.captured).filter((table) => !tables.includes(table));
    for (const table of gone) log.info({ source: connector.name, table }, 'table no longer captured (no longer matched by include, or gone)');
    if (gone.length > 0) this.captured = Object.fromEntries(Object.entries(this.captured).filter(([table]) => !gone.includes(table)));
    for (const request of this.incremental.drop((table) => tables.includes(table))) {
      this.tokenWanted = true;
      const last = this.isLastOf(request);
      this.awaitingToken.push(() => {
        this.notify({ type: 'incremental-table-refused', id: request.id, table: request.table, reason: `source ${connector.name} no longer captures ${request.table}` });
        this.tableFinished(request, false, last);
      });
    }
    const queued = new Set(this.incremental.pending().map((request) => request.table));
    const added = tables.filter((table) => !(table in this.captured!) && !queued.has(table));
    if (added.length > 0) this.captured = { ...this.captured, ...Object.fromEntries(added.map((table) => [table, now])) };
    if (added.length === 0 || !snapshotAdded) return;
    log.info({ source: connector.name, tables: added }, 'tables newly captured: snapshotting them incrementally');
    const id = `added:${now}`;
    this.notify({ type: 'incremental-requested', id, tables: added });
    // Not awaited: the token that holds them is written once streaming starts.
    void this.accept(id, 'added', added, [], now);
  }

  /** A signal from the control topic: refused at once, or accepted once the token that holds it is durable. */
  async takeSignal({ signal, offset }: ReceivedSignal): Promise<void> {
    const { connector } = this.options;
    // Taken before a crash that came before the control topic's offset was committed.
    if (this.signalOffset !== undefined && BigInt(offset) <= BigInt(this.signalOffset)) return;
    this.notify({ type: 'incremental-requested', id: signal.id, tables: signal.tables });
    const refuse = (reason: string) => {
      logOf(this.options).warn({ source: connector.name, id: signal.id, tables: signal.tables, reason }, 'incremental snapshot refused');
      this.notify({ type: 'incremental-refused', id: signal.id, tables: signal.tables, reason });
    };
    if (signal.source !== connector.name) return refuse(`the request is for source ${signal.source}, but its partition is source ${connector.name}'s: was the config's list of sources reordered?`);
    if (connector.readChunk === undefined) return refuse(`source ${connector.name} cannot take incremental snapshots`);
    const captured = new Set(await connector.tables());
    const known = signal.tables.filter((table) => captured.has(table));
    const unknown = signal.tables.filter((table) => !captured.has(table));
    const refused = unknown.map((table) => ({ table, reason: `source ${connector.name} does not capture ${table}` }));
    if (known.length === 0) return refuse(`source ${connector.name} does not capture ${unknown.join(', ')} (it captures ${describeTables([...captured])})`);
    this.signalOffset = offset;
    await this.accept(signal.id, 'requested', known, refused, signal.requestedAt);
  }

  stop(): void {
    this.incremental.stop();
  }

  notify(notification: Notification): void {
    this.options.notifier?.notify(this.options.connector.name, notification);
    this.options.metrics?.notified(this.options.connector.name, notification.type);
  }

  /** Queues the tables and resolves once a token holding them is durable. */
  private async accept(id: string, reason: IncrementalSnapshotProgress['reason'], tables: string[], refused: Array<{ table: string; reason: string }>, requestedAt: number): Promise<void> {
    const estimates = await (this.options.connector.estimateRows?.(tables) ?? Promise.resolve({} as Record<string, number>)).catch(() => ({}) as Record<string, number>);
    this.incremental.add(tables.map((table) => ({ id, table, reason, requestedAt, rows: 0, chunks: 0, ...(estimates[table] === undefined ? {} : { estimate: estimates[table] }) })));
    await new Promise<void>((resolve) => {
      this.awaitingToken.push(() => {
        logOf(this.options).info({ source: this.options.connector.name, id, tables }, 'incremental snapshot accepted');
        this.notify({ type: 'incremental-accepted', id, tables, refused });
        resolve();
      });
      this.tokenWanted = true;
      this.wake();
    });
  }

  /** Whether no table of `request`'s request is left to read (asked when one of its tables leaves the queue). */
  isLastOf(request: IncrementalSnapshotProgress): boolean {
    return !this.incremental.pending().some((pending) => pending.id === request.id);
  }

  /**
   * A request's table is durably finished (`snapshotted`) or refused; after its `last` table, the request
   * is finished, naming the tables this process snapshotted for it.
   */
  tableFinished(request: IncrementalSnapshotProgress, snapshotted: boolean, last: boolean): void {
    const tables = this.snapshottedTables.get(request.id) ?? [];
    if (snapshotted) tables.push(request.table);
    this.snapshottedTables.set(request.id, tables);
    if (!last) return;
    this.snapshottedTables.delete(request.id);
    this.notify({ type: 'incremental-finished', id: request.id, tables });
  }
}

function describeTables(tables: readonly string[]): string {
  if (tables.length === 0) return 'no table';
  return tables.length <= 5 ? tables.join(', ') : `${tables.slice(0, 5).join(', ')} and ${tables.length - 5} more`;
}

/** Step 1 and 2: the position streaming will start from is durable before any snapshot row is read. */
async function commitTokenBeforeSnapshot(options: SourceRunnerOptions): Promise<SourceToken> {
  return commitOpenedLog(options, 'snapshot');
}

async function commitTokenBeforeStreaming(options: SourceRunnerOptions): Promise<SourceToken> {
  return commitOpenedLog(options, 'streaming');
}

async function commitOpenedLog(options: SourceRunnerOptions, phase: TokenPhase): Promise<SourceToken> {
  const from = await options.connector.openLog();
  const token = makeToken(options, phase, from, phase === 'snapshot' ? {} : undefined);
  try {
    await options.writer.write([], token);
  } catch (error) {
    if (error instanceof TokenCommitError) throw error;
    throw new TokenCommitError(`source ${options.connector.name}: cannot commit its first token: ${(error as Error).message}`, { cause: error });
  }
  logOf(options).info({ source: options.connector.name, phase, position: from.position }, 'token committed');
  return token;
}

/**
 * Step 3: rows become `r` events; a finished chunk's progress is committed after its rows. A spread
 * snapshot's rows are written by the pipeline's workers: here come its plans, its ranges done and its end
 * markers, each committed in a token in turn.
 */
async function snapshotFromToken(options: SourceRunnerOptions, session: SourceSession, token: SourceToken): Promise<SourceToken> {
  const from = positionOf(token);
  const progress: Record<string, TableSnapshotProgress> = { ...token.snapshot };
  const started = Date.now();
  await announceSnapshot(options, session, progress);
  const items =
    options.spread === undefined
      ? options.connector.snapshot(from, { ...progress }, options.flow)
      : spreadSnapshot({ pipeline: options.pipeline, transport: options.spread.transport, connector: options.connector, from, progress: { ...progress }, rowsPerRange: options.spread.rowsPerRange, log: logOf(options) });
  let streaming: SourceToken | undefined;
  await writeBatched(
    options,
    items,
    (item: SnapshotItem, batcher) => {
      if (item.kind === 'row') {
        batcher.event(item.event);
      } else if (item.kind === 'tableDone') {
        batcher.marker(item.marker);
      } else {
        progress[item.table] = item.progress;
        const { table, progress: done } = item;
        const written = done.done ? () => session.notify({ type: 'table-snapshotted', table, rows: done.rows, durationMs: Date.now() - started }) : undefined;
        session.boundary(batcher, session.token('snapshot', from, { ...progress }), written);
      }
    },
    (batcher) => {
      session.snapshotDone(Object.keys(progress));
      streaming = session.token('streaming', from, progress);
      session.boundary(batcher, streaming);
    },
  );
  if (streaming === undefined) return token;
  const tables = Object.values(progress);
  session.notify({ type: 'snapshot-finished', tables: tables.length, rows: tables.reduce((rows, table) => rows + table.rows, 0), durationMs: Date.now() - started });
  return streaming;
}

/** Tells the log and metrics what this snapshot will do, and what a restart skips. */
async function announceSnapshot(options: SourceRunnerOptions, session: SourceSession, progress: Record<string, TableSnapshotProgress>): Promise<void> {
  const { connector, metrics } = options;
  const log = logOf(options);
  metrics?.sourcePhase(connector.name, 'snapshot');
  const tables = await connector.tables();
  // Estimates only feed progress bars: a server that cannot give them must not stop the snapshot.
  const estimates = await (connector.estimateRows?.(tables) ?? Promise.resolve({})).catch((error: unknown) => {
    log.warn({ source: connector.name, err: error }, 'no row estimates for snapshot progress');
    return {};
  });
  metrics?.snapshotPlanned(connector.name, progress, estimates);
  log.info({ source: connector.name, tables: tables.length }, 'snapshot started');
  session.notify({ type: 'snapshot-started', tables });
  for (const [table, done] of Object.entries(progress)) {
    if (done.chunks > 0) log.info({ source: connector.name, table, chunksSkipped: done.chunks, rowsSkipped: done.rows, tableDone: done.done }, 'snapshot resumed');
  }
}

function logOf(options: SourceRunnerOptions): Logger {
  return options.log ?? silentLogger;
}

/**
 * Step 4: a token at each transaction boundary, after the events before it. Incremental snapshot chunks
 * go in at boundaries too (topology/incremental-snapshot.ts); while one waits, or a taken signal waits for a
 * token, an idle stream is asked for its boundary every IDLE_BOUNDARY_POLL_MS.
 */
async function streamFromToken(options: SourceRunnerOptions, session: SourceSession, token: SourceToken): Promise<void> {
  const cursor: StreamCursor = {};
  const items = options.connector.stream(positionOf(token), options.flow, cursor);
  const { incremental } = session;
  const atBoundary = (at: LogPosition, batcher: BoundaryBatcher) => {
    const emitted = incremental.emitAt(at.position);
    if (emitted === undefined) {
      session.boundary(batcher, session.token('streaming', at, token.snapshot));
      return;
    }
    for (const row of emitted.rows) batcher.event(row);
    const { request, marker } = emitted;
    if (marker !== undefined) batcher.marker(marker);
    const last = marker !== undefined && session.isLastOf(request);
    const written = () => {
      if (marker !== undefined) {
        session.notify({ type: 'incremental-table-snapshotted', id: request.id, table: request.table, rows: request.rows, chunks: request.chunks, durationMs: Date.now() - (request.startedAt ?? Date.now()) });
        session.tableFinished(request, true, last);
      }
      // The next chunk, read meanwhile, may go in at the next boundary (an idle stream is asked for one).
      incremental.written();
      session.wake();
    };
    session.boundary(batcher, session.token('streaming', at, token.snapshot), written);
    incremental.readNext();
  };
  await writeBatched(
    options,
    items,
    (item: StreamItem, batcher) => {
      if (item.kind === 'change') {
        session.streamed(item.event);
        incremental.observe(item.event);
        batcher.event(item.event);
      } else if (item.kind === 'commit') {
        if (item.heartbeat) heartbeat(options, item.position);
        atBoundary(item.position, batcher);
      }
      // 'schema' items need nothing here: every event carries the schema in force for it.
    },
    undefined,
    (batcher, fail) => {
      const poll = () => {
        if (!incremental.waiting && !session.tokenWanted) return;
        const at = cursor.boundary?.();
        if (at !== undefined) atBoundary(at, batcher);
      };
      const timer = setInterval(poll, IDLE_BOUNDARY_POLL_MS);
      session.wake = poll;
      session.fail = fail;
      incremental.readNext();
      return () => {
        clearInterval(timer);
        session.wake = () => {};
      };
    },
  );
}

function heartbeat(options: SourceRunnerOptions, at: LogPosition): void {
  options.metrics?.heartbeat(options.connector.name);
  logOf(options).debug({ source: options.connector.name, position: at.position }, 'heartbeat: the token moves with the log, past changes it does not capture');
}

/**
 * Feeds `items` to a BoundaryBatcher until they complete (then `complete` adds what ends them) or the
 * signal aborts; either way, and on an error, it writes what the latest token covers before settling.
 * Rejects with the first error of either side. `attach` runs once the batcher exists (with a way to fail
 * the whole), and what it returns when it ends.
 */
function writeBatched<T>(
  options: SourceRunnerOptions,
  items: Observable<T>,
  handle: (item: T, batcher: BoundaryBatcher) => void,
  complete?: (batcher: BoundaryBatcher) => void,
  attach?: (batcher: BoundaryBatcher, fail: (error: unknown) => void) => () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let subscription: Subscription | undefined;
    let detach: (() => void) | undefined;
    const finish = (error?: { error: unknown }) => {
      if (finished) return;
      finished = true;
      subscription?.unsubscribe();
      detach?.();
      options.signal?.removeEventListener('abort', onAbort);
      // Even after a failure, what is already covered by a token is written: a restart then resumes later.
      const settled = batcher.settled();
      if (error) settled.then(() => reject(error.error), () => reject(error.error));
      else settled.then(resolve, reject);
    };
    const onAbort = () => finish();
    const batcher = new BoundaryBatcher(
      options.writer,
      options.flow,
      options.stage ?? new OperatorStage([]),
      options.maxBatch ?? 2000,
      (error) => finish({ error }),
      (refused) => refusedSourceEvent(options.pipeline, refused),
      options.markers,
    );
    options.signal?.addEventListener('abort', onAbort);
    if (!options.signal?.aborted) {
      detach = attach?.(batcher, (error) => finish({ error }));
      subscription = items.subscribe({
          next: (item) => {
            if (finished) return;
            try {
              handle(item, batcher);
            } catch (error) {
              finish({ error });
            }
          },
          error: (error: unknown) => finish({ error }),
          complete: () => {
            if (!finished) complete?.(batcher);
            finish();
          },
        });
    }
    // A source that finished synchronously could not be unsubscribed from inside its own subscribe.
    if (options.signal?.aborted || finished) {
      subscription?.unsubscribe();
      finish();
    }
  });
}

function makeToken(
  options: SourceRunnerOptions,
  phase: TokenPhase,
  at: LogPosition,
  snapshot: Record<string, TableSnapshotProgress> | undefined,
): SourceToken {
  return {
    pipeline: options.pipeline,
    source: options.connector.name,
    phase,
    position: at.position,
    resume: at.resume,
    ...(snapshot === undefined ? {} : { snapshot }),
    writtenAt: Date.now(),
  };
}

function positionOf(token: SourceToken): LogPosition {
  return { position: token.position, resume: token.resume };
}
