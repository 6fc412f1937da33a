import { randomUUID } from 'node:crypto';
import { Observable } from 'rxjs';
import type { ChangeEvent } from './change-event.ts';
import type { BatchWriter } from './change-writer.ts';
import { refusedSourceEvent } from './dead-letter.ts';
import { ConfigError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';
import type { OperatorStage, RefusedEvent } from './operator-stage.ts';
import type { LogPosition, SnapshotItem, SourceConnector } from './source.ts';
import { withRetry } from './retry.ts';
import type { TableSnapshotProgress } from './token.ts';
import { groups, topics } from './topics.ts';
import type { ConsumedRecord, Consumer, Producer, TopicSpec, Transport } from './transport.ts';

/**
 * A spread snapshot (docs/spread-snapshot.md): the initial snapshot of a source read by every process of
 * its pipeline, Kafka's consumer group handing out the work.
 *
 * - The source's owner (source-runner.ts, after its 'snapshot' token is durable) splits each table into key
 *   ranges (SourceConnector.splitTable), publishes one work record per range to `<pipeline>.snapshot-work`,
 *   and records the plan in its token (TableSnapshotProgress.spread).
 * - Every process of the pipeline runs a SnapshotWorker in group `<pipeline>.snapshot-workers` on that
 *   topic: it reads a range (SourceConnector.readChunk up to the range's end), writes its rows as `r`
 *   events at the snapshot's position to the change topic, then a done record to `<pipeline>.snapshot-done`,
 *   and only then lets the work record's offset be committed. A process killed mid-range leaves the offset
 *   uncommitted: the group hands the partition to another member, which reads the range again.
 * - The owner follows the done records; once every range of a table is done it writes the table's end
 *   marker, and once every table is, the 'streaming' token: streaming starts only after every row of the
 *   snapshot is durable. An owner that dies is replaced by one that finds the plan in the token and waits
 *   for the same ranges.
 */

/** Partitions of the work topic: at most this many processes share one snapshot. */
export const SNAPSHOT_WORK_PARTITIONS = 12;

/** The topics a pipeline with a spread snapshot needs besides its others. */
export function spreadSnapshotTopicSpecs(pipeline: string): TopicSpec[] {
  return [
    { name: topics.snapshotWork(pipeline), partitions: SNAPSHOT_WORK_PARTITIONS },
    { name: topics.snapshotDone(pipeline), partitions: 1, compacted: true },
  ];
}

/** One key range to read: rows after `after` up to `upTo` (open ends: from the start, to the end). */
export interface SnapshotWork {
  source: string;
  /** The plan's id (TableSnapshotProgress.spread.id). */
  snapshot: string;
  table: string;
  index: number;
  ranges: number;
  after?: string;
  upTo?: string;
  /** The snapshot's log position, which every `r` event carries. */
  position: string;
}

/** A range whose rows are durable in the change topic. */
export interface SnapshotWorkDone {
  source: string;
  snapshot: string;
  table: string;
  index: number;
  rows: number;
  /** Which process read it (its host and pid), for logs and tests. */
  worker: string;
}

function parseJson<T>(record: ConsumedRecord, fields: readonly string[]): T | undefined {
  try {
    const value = JSON.parse(record.value?.toString('utf8') ?? '') as Record<string, unknown>;
    return fields.every((field) => field in value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A range's key in the done topic (compacted: one record per range). */
function doneKey(range: Pick<SnapshotWork, 'source' | 'snapshot' | 'index'>): string {
  return `${range.source}/${range.snapshot}/${range.index}`;
}

function jsonRecord(topic: string, partition: number, key: string, value: object) {
  return { topic, partition, key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)) };
}

export interface SpreadSnapshotOptions {
  pipeline: string;
  transport: Transport;
  connector: SourceConnector;
  from: LogPosition;
  /** Per table, as the token has it (a plan published by an earlier owner is waited for, not made again). */
  progress: Readonly<Record<string, TableSnapshotProgress>>;
  rowsPerRange: number;
  log?: Logger;
}

/**
 * The owner's side, as the SnapshotItems source-runner.ts turns into tokens and markers: a `chunkDone`
 * once a table's plan is published (its token records the plan), one per range done after that, and when
 * the last is, the table's end marker and its `chunkDone` with `done`. Rows are written by the workers.
 */
export function spreadSnapshot(options: SpreadSnapshotOptions): Observable<SnapshotItem> {
  return new Observable<SnapshotItem>((subscriber) => {
    const { pipeline, transport, connector, from } = options;
    const log = options.log ?? silentLogger;
    let stopped = false;
    let follower: Consumer | undefined;
    let producer: Producer | undefined;
    const progress = new Map<string, TableSnapshotProgress>();
    const markers = new Map<string, ChangeEvent>();
    const done = new Map<string, Set<number>>();
    const split = async (table: string) => {
      const plan = await connector.splitTable!(table, options.rowsPerRange, from);
      if (plan !== undefined) markers.set(table, plan.marker);
      return plan;
    };
    const finishIfDone = async (table: string) => {
      const current = progress.get(table)!;
      const plan = current.spread!;
      if (current.done || (done.get(plan.id)?.size ?? 0) < plan.ranges) return;
      // A new owner took the plan from the token: the marker needs the table's schema as it is now.
      const marker = markers.get(table) ?? (await split(table))?.marker;
      if (stopped) return;
      const finished = { ...current, done: true };
      progress.set(table, finished);
      if (marker !== undefined) subscriber.next({ kind: 'tableDone', marker });
      subscriber.next({ kind: 'chunkDone', table, progress: finished });
      completeIfDone();
    };
    const completeIfDone = () => {
      if ([...progress.values()].every((table) => table.done)) subscriber.complete();
    };
    // Done records are handled one at a time, in order, after every plan is published.
    let handling: Promise<void> = Promise.resolve();
    const fail = (error: unknown) => {
      if (!stopped) subscriber.error(error);
    };
    const onDone = (record: ConsumedRecord) => {
      const rangeDone = parseJson<SnapshotWorkDone>(record, ['source', 'snapshot', 'table', 'index', 'rows']);
      if (rangeDone === undefined || rangeDone.source !== connector.name) return;
      handling = handling.then(async () => {
        const current = progress.get(rangeDone.table);
        if (stopped || current?.spread?.id !== rangeDone.snapshot || current.done) return;
        const ranges = done.get(rangeDone.snapshot) ?? new Set<number>();
        done.set(rangeDone.snapshot, ranges);
        if (ranges.has(rangeDone.index)) return;
        ranges.add(rangeDone.index);
        const updated = { ...current, rows: current.rows + rangeDone.rows, chunks: ranges.size };
        progress.set(rangeDone.table, updated);
        log.debug({ source: connector.name, table: rangeDone.table, range: rangeDone.index, of: current.spread.ranges, worker: rangeDone.worker }, 'snapshot range done');
        subscriber.next({ kind: 'chunkDone', table: rangeDone.table, progress: updated });
        await finishIfDone(rangeDone.table);
      }).catch(fail);
    };
    const start = async () => {
      // TopologyBuilder.source refuses a spread snapshot of a connector without splitTable and readChunk.
      const tables = await connector.tables();
      for (const table of tables) {
        const earlier = options.progress[table];
        if (earlier?.done) progress.set(table, { ...earlier });
        // A plan's ranges done are counted again from the done records, which the follower reads from the
        // start; rows of an unspread snapshot of the table do not carry over: the plan reads it all.
        else progress.set(table, { done: false, rows: 0, chunks: 0, ...(earlier?.spread === undefined ? {} : { spread: earlier.spread }) });
      }
      // Followed from before the first plan is published: no done record can come before it is read.
      let published = false;
      const early: ConsumedRecord[] = [];
      follower = await transport.consumer({
        groupId: groups.snapshotDoneFollower(pipeline, randomUUID()),
        topics: [topics.snapshotDone(pipeline)],
        fromBeginning: true,
        eachBatch: async ({ records }) => {
          for (const record of records) {
            if (published) onDone(record);
            else early.push(record);
          }
        },
      });
      producer = await transport.producer();
      if (stopped) return close();
      for (const table of tables) {
        if (stopped) return;
        const current = progress.get(table)!;
        if (current.done || current.spread !== undefined) {
          if (!current.done) log.info({ source: connector.name, table, ranges: current.spread!.ranges }, 'spread snapshot resumed: waiting for the ranges not done');
          continue;
        }
        const plan = await split(table);
        // Stopped while splitting (the source was handed over, or shuts down): a plan published now would
        // be recorded by no token, and the next owner would split and read the whole table again.
        if (stopped) return;
        if (plan === undefined) {
          // Dropped since the table list was read: nothing to read.
          const gone = { ...current, done: true };
          progress.set(table, gone);
          subscriber.next({ kind: 'chunkDone', table, progress: gone });
          continue;
        }
        const spread = { id: randomUUID(), ranges: plan.bounds.length + 1 };
        const work = Array.from({ length: spread.ranges }, (_, index): SnapshotWork => ({
          source: connector.name,
          snapshot: spread.id,
          table,
          index,
          ranges: spread.ranges,
          ...(index > 0 ? { after: plan.bounds[index - 1]! } : {}),
          ...(index < plan.bounds.length ? { upTo: plan.bounds[index]! } : {}),
          position: from.position,
        }));
        // Spread over the partitions from a random one, so small tables do not all land on partition 0.
        const first = Math.floor(Math.random() * SNAPSHOT_WORK_PARTITIONS);
        const records = work.map((range) => jsonRecord(topics.snapshotWork(pipeline), (first + range.index) % SNAPSHOT_WORK_PARTITIONS, `${range.source}/${range.table}/${range.index}`, range));
        await withRetry(`publish the ${spread.ranges} snapshot ranges of ${table}`, () => producer!.send(records));
        const planned = { ...current, spread };
        progress.set(table, planned);
        log.info({ source: connector.name, table, ranges: spread.ranges, rowsPerRange: options.rowsPerRange }, 'spread snapshot planned');
        subscriber.next({ kind: 'chunkDone', table, progress: planned });
      }
      published = true;
      for (const record of early.splice(0)) onDone(record);
      // Tables whose ranges were all done before a restart (or that were done or gone already).
      handling = handling
        .then(async () => {
          for (const table of tables) if (progress.get(table)!.spread !== undefined) await finishIfDone(table);
          completeIfDone();
        })
        .catch(fail);
    };
    const close = () => {
      void follower?.stop().catch(() => {});
      void producer?.close().catch(() => {});
    };
    start().catch(fail);
    return () => {
      stopped = true;
      close();
    };
  });
}

/** What a worker needs of each source whose ranges it may be handed. */
export interface SpreadSource {
  connector: SourceConnector;
  /** The source's change writer (no token: a range's rows are covered by its done record). */
  writer: BatchWriter;
  /** The source stage's operators, as every event of the source passes them. */
  stage: OperatorStage;
  /** Rows per read (and at most per write) within a range. */
  chunkSize: number;
}

export interface SnapshotWorkerOptions {
  pipeline: string;
  transport: Transport;
  /** Writes the done records; the sources' writers may share it. Closed when the worker stops. */
  producer: Producer;
  sources: ReadonlyMap<string, SpreadSource>;
  /** Ranges this process reads at once. */
  parallelism: number;
  log?: Logger;
}

/** A process's member of the work group: reads the ranges Kafka hands it, until stopped. */
export class SnapshotWorker {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly name = `${process.env.HOSTNAME ?? 'host'}:${process.pid}`;
  private consumer?: Consumer;
  private follower?: Consumer;
  /** Ranges done by any process (`doneKey`), as read from the done topic so far. */
  private readonly done = new Set<string>();

  private constructor(private readonly options: SnapshotWorkerOptions) {}

  static async start(options: SnapshotWorkerOptions): Promise<SnapshotWorker> {
    const worker = new SnapshotWorker(options);
    // A work record is committed with the rest of its batch: after a handover, the ranges of the batch
    // that another process finished are skipped rather than read again.
    worker.follower = await options.transport.consumer({
      groupId: groups.snapshotDoneFollower(options.pipeline, randomUUID()),
      topics: [topics.snapshotDone(options.pipeline)],
      fromBeginning: true,
      eachBatch: async ({ records }) => {
        for (const record of records) {
          const done = parseJson<SnapshotWorkDone>(record, ['source', 'snapshot', 'index']);
          if (done !== undefined) worker.done.add(doneKey(done));
        }
      },
    });
    worker.consumer = await options.transport.consumer({
      groupId: groups.snapshotWorkers(options.pipeline),
      topics: [topics.snapshotWork(options.pipeline)],
      fromBeginning: true,
      eachBatch: async ({ records, signal }) => {
        for (const record of records) await worker.take(record, signal);
      },
    });
    return worker;
  }

  get stopped(): Promise<void> {
    return Promise.all([this.consumer!.done, this.follower!.done]).then(() => {});
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.follower?.stop();
    await this.options.producer.close();
  }

  /** One work record: its range read and written, then its done record, or a rejection that leaves it to the partition's next owner. */
  private async take(record: ConsumedRecord, signal: AbortSignal): Promise<void> {
    const { pipeline, sources, log = silentLogger } = this.options;
    const work = parseJson<SnapshotWork>(record, ['source', 'snapshot', 'table', 'index', 'ranges', 'position']);
    if (work === undefined) {
      log.warn({ topic: record.topic, partition: record.partition, offset: record.offset }, 'not a snapshot work record: skipped');
      return;
    }
    const source = sources.get(work.source);
    if (source === undefined) {
      throw new ConfigError(`pipeline ${pipeline}: a snapshot range of source ${work.source} was handed to this process, whose config has no such source: run every process of a pipeline with the same sources`);
    }
    if (this.done.has(doneKey(work))) {
      log.debug({ source: work.source, table: work.table, range: work.index }, 'snapshot range done by another process: skipped');
      return;
    }
    await this.slot(signal);
    try {
      const started = Date.now();
      const rows = await this.readRange(source, work, signal);
      const done: SnapshotWorkDone = { source: work.source, snapshot: work.snapshot, table: work.table, index: work.index, rows, worker: this.name };
      await withRetry(`write the done record of snapshot range ${work.index} of ${work.table}`, () => this.options.producer.send([jsonRecord(topics.snapshotDone(pipeline), 0, doneKey(work), done)]), { signal });
      this.done.add(doneKey(work));
      log.info({ source: work.source, table: work.table, range: work.index, of: work.ranges, rows, ms: Date.now() - started }, 'snapshot range written');
    } finally {
      this.release();
    }
  }

  /** Reads `work`'s range chunk by chunk and writes each chunk's rows; resolves with their count once all are durable. */
  private async readRange({ connector, writer, stage, chunkSize }: SpreadSource, work: SnapshotWork, signal: AbortSignal): Promise<number> {
    const { pipeline } = this.options;
    let after = work.after;
    let rows = 0;
    for (;;) {
      // One row more than a range holds: a range read whole ends with a short read, not with an empty second one.
      const chunk = await withRetry(`read snapshot range ${work.index} of ${work.table}`, () => connector.readChunk!(work.table, after, chunkSize + 1, work.upTo), { signal });
      // Gone since it was planned: nothing left to read in it.
      if (chunk === undefined) return rows;
      // Read while the partition was being taken away: its next owner reads the range, not this process.
      if (signal.aborted) throw new Error(`snapshot range ${work.index} of ${work.table} given up: this process no longer owns its work partition`);
      const events: ChangeEvent[] = [];
      const refused: RefusedEvent[] = [];
      // At the snapshot's position, as the token's: a change streamed after it must never look older than the row.
      const source = chunk.rows[0] === undefined ? undefined : { ...chunk.rows[0].source, position: work.position };
      for (const row of chunk.rows) {
        row.source = source!;
        stage.feed(row, events, refused);
      }
      for (const refusal of refused) events.push(refusedSourceEvent(pipeline, refusal));
      if (events.length > 0) await writer.write(events);
      rows += chunk.rows.length;
      if (chunk.done || chunk.lastKey === undefined) return rows;
      after = chunk.lastKey;
    }
  }

  private async slot(signal: AbortSignal): Promise<void> {
    while (this.running >= this.options.parallelism) {
      if (signal.aborted) throw new Error('snapshot range given up while waiting: this process no longer owns its work partition');
      await new Promise<void>((resolve) => {
        // Woken either way, the listener goes: one left per wait would pile up on the batch's signal.
        const wake = () => {
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    this.running++;
  }

  /** Wakes every waiter to check again: one may have given up (its partition taken away) and must not take the wake-up of another. */
  private release(): void {
    this.running--;
    for (const wake of this.waiting.splice(0)) wake();
  }
}
