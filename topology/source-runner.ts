import type { Observable, Subscription } from 'rxjs';
import type { LogPosition, SnapshotItem, SourceConnector, StreamItem } from './source.ts';
import type { SourceToken, TableSnapshotProgress, TokenPhase, TokenStore } from './token.ts';
import type { FlowControl } from './flow-control.ts';
import type { BatchWriter } from './change-writer.ts';
import { OperatorStage } from './operator-stage.ts';
import { refusedSourceEvent } from './dead-letter.ts';
import { BoundaryBatcher, type MarkerRoute } from './boundary-batcher.ts';
import { PositionLostError, TokenCommitError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';
import type { PipelineMetrics } from './metrics.ts';

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
}

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
  if (token.phase === 'snapshot') token = await snapshotFromToken(options, token);
  if (options.signal?.aborted) return;
  options.metrics?.sourcePhase(connector.name, 'streaming');
  logOf(options).info({ source: connector.name, position: token.position }, 'streaming');
  await streamFromToken(options, token);
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

/** Step 3: rows become `r` events; a finished chunk's progress is committed after its rows. */
async function snapshotFromToken(options: SourceRunnerOptions, token: SourceToken): Promise<SourceToken> {
  const from = positionOf(token);
  const progress: Record<string, TableSnapshotProgress> = { ...token.snapshot };
  await announceSnapshot(options, progress);
  const items = options.connector.snapshot(from, { ...progress }, options.flow);
  const streaming = makeToken(options, 'streaming', from, progress);
  await writeBatched(options, items, streaming, (item: SnapshotItem, batcher) => {
    if (item.kind === 'row') {
      batcher.event(item.event);
    } else if (item.kind === 'tableDone') {
      batcher.marker(item.marker);
    } else {
      progress[item.table] = item.progress;
      batcher.boundary(makeToken(options, 'snapshot', from, { ...progress }));
    }
  });
  return streaming;
}

/** Tells the log and metrics what this snapshot will do, and what a restart skips. */
async function announceSnapshot(options: SourceRunnerOptions, progress: Record<string, TableSnapshotProgress>): Promise<void> {
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
  for (const [table, done] of Object.entries(progress)) {
    if (done.chunks > 0) log.info({ source: connector.name, table, chunksSkipped: done.chunks, rowsSkipped: done.rows, tableDone: done.done }, 'snapshot resumed');
  }
}

function logOf(options: SourceRunnerOptions): Logger {
  return options.log ?? silentLogger;
}

/** Step 4: a token at each transaction boundary, after the events before it. */
async function streamFromToken(options: SourceRunnerOptions, token: SourceToken): Promise<void> {
  const items = options.connector.stream(positionOf(token), options.flow);
  await writeBatched(options, items, undefined, (item: StreamItem, batcher) => {
    if (item.kind === 'change') batcher.event(item.event);
    else if (item.kind === 'commit') {
      if (item.heartbeat) heartbeat(options, item.position);
      batcher.boundary(makeToken(options, 'streaming', item.position, token.snapshot));
    }
    // 'schema' items need nothing here: every event carries the schema in force for it.
  });
}

function heartbeat(options: SourceRunnerOptions, at: LogPosition): void {
  options.metrics?.heartbeat(options.connector.name);
  logOf(options).debug({ source: options.connector.name, position: at.position }, 'heartbeat: the token moves with the log, past changes it does not capture');
}

/**
 * Feeds `items` to a BoundaryBatcher until they complete (then writes `finalToken` after them) or the
 * signal aborts; either way, and on an error, it writes what the latest token covers before settling.
 * Rejects with the first error of either side.
 */
function writeBatched<T>(
  options: SourceRunnerOptions,
  items: Observable<T>,
  finalToken: SourceToken | undefined,
  handle: (item: T, batcher: BoundaryBatcher) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let subscription: Subscription | undefined;
    const finish = (error?: { error: unknown }) => {
      if (finished) return;
      finished = true;
      subscription?.unsubscribe();
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
            if (finalToken !== undefined && !finished) batcher.boundary(finalToken);
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
