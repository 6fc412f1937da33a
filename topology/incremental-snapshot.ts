import { comparePositions, truncateEvent, type ChangeEvent, type SourceInfo } from './change-event.ts';
import { ConfigError } from './errors.ts';
import { encodeRowKey } from './key-encoding.ts';
import type { IncrementalChunk, SourceConnector } from './source.ts';
import type { IncrementalSnapshotProgress } from './token.ts';

/**
 * Incremental snapshots, after Netflix's DBLog (Andreakis and Papapanagiotou, 2020): a table is read in
 * key-ordered chunks while its source streams, one chunk at a time, and each chunk's rows are put into the
 * stream where they cannot hide a newer change:
 *
 * 1. the connector reads a chunk and says where in the log the read happened: it saw every change at or
 *    before `low` and none after `high` (SourceConnector.readChunk);
 * 2. until the chunk goes into the stream, every streamed change of the table after `low` takes its row
 *    out of the chunk: one in (low, high] the read may or may not have seen, one after `high` it did not
 *    (the stream may pass `high` before the read's result is in, or before its next boundary), and either
 *    way the change itself carries the row's newer state;
 * 3. at the first transaction boundary at or after `high`, once the chunk before it is durable, the chunk's
 *    remaining rows go into the stream as `r` events at position `high`, followed by the token that records
 *    the chunk as done.
 *
 * So every change before the chunk in the stream is older than what the chunk holds, and every change after
 * it is newer: a consumer that keeps the last event per key (ours, or any plain consumer of the change
 * topic) ends with the source's rows, and no snapshot row ever follows a newer change of its row. No lock,
 * no write to the source. When a table's last chunk is in, its end marker (a `t` at the position of the
 * first chunk's read, on the repartition topic only) lets our sinks remove rows the source no longer has.
 *
 * Cost: two chunks of rows in memory at most (one being written, the next one read meanwhile); the stream
 * itself never waits for a read, and a change streamed behind a chunk waits for that chunk alone.
 */
export interface IncrementalSnapshotOptions {
  connector: SourceConnector;
  /** Rows per chunk. */
  chunkSize: number;
  /** The requests not finished, from the token, oldest first; the first is the one read. */
  requests: readonly IncrementalSnapshotProgress[];
  /** A chunk is read and waits for the stream to pass its window: the caller checks `emitAt` at the next boundary. */
  onChunkRead: () => void;
  /** A table of a request cannot be read (gone, or refused by the connector, e.g. a table without a key). */
  onTableRefused: (request: IncrementalSnapshotProgress, reason: string) => void;
  /** A read failed for another reason: the source stops (and resumes at this chunk on restart). */
  onError: (error: unknown) => void;
}

/** A chunk put into the stream: its rows, the request's progress after it, and the table's end marker if it was the last. */
export interface EmittedChunk {
  rows: ChangeEvent[];
  request: IncrementalSnapshotProgress;
  /** Present when the chunk finished its table. */
  marker?: ChangeEvent;
}

interface Reading {
  request: IncrementalSnapshotProgress;
  /** Changes of the table streamed while the read was in flight (its window is not known yet). */
  streamed: Array<{ position: string; key: string }>;
  chunk?: IncrementalChunk;
  /** Keys of the chunk's rows changed after its `low`. */
  changed?: Set<string>;
}

export class IncrementalSnapshot {
  private readonly requests: IncrementalSnapshotProgress[];
  private reading: Reading | undefined;
  /** The last chunk emitted is not durable yet: the next one waits, so that no more than one chunk is ahead of the stream's changes. */
  private unwritten = false;
  private stopped = false;

  constructor(private readonly options: IncrementalSnapshotOptions) {
    this.requests = options.requests.map((request) => ({ ...request }));
  }

  /** What the token records: the requests not finished (the first one's progress as of its last emitted chunk). */
  pending(): IncrementalSnapshotProgress[] {
    return this.requests.map((request) => ({ ...request }));
  }

  /** True while a chunk has been read, the one before it is durable, and it waits for the stream to pass its window. */
  get waiting(): boolean {
    return this.reading?.chunk !== undefined && !this.unwritten;
  }

  /** Queues tables to snapshot; reading starts at once if nothing else is being read. */
  add(requests: readonly IncrementalSnapshotProgress[]): void {
    this.requests.push(...requests.map((request) => ({ ...request })));
    this.readNext();
  }

  /** Starts reading the next chunk, unless one is being read or waits. */
  readNext(): void {
    const request = this.requests[0];
    const readChunk = this.options.connector.readChunk?.bind(this.options.connector);
    if (this.stopped || this.reading !== undefined || request === undefined) return;
    if (readChunk === undefined) {
      this.refuseFirst(`source ${this.options.connector.name} cannot take incremental snapshots`);
      return;
    }
    const reading: Reading = { request, streamed: [] };
    this.reading = reading;
    request.startedAt ??= Date.now();
    readChunk(request.table, request.lastKey, this.options.chunkSize).then(
      (chunk) => {
        if (this.stopped || this.reading !== reading) return;
        if (chunk === undefined) {
          this.refuseFirst(`table ${request.table} no longer exists`);
          return;
        }
        reading.changed = new Set();
        for (const { position, key } of reading.streamed) if (after(position, chunk)) reading.changed.add(key);
        reading.streamed = [];
        reading.chunk = chunk;
        this.options.onChunkRead();
      },
      (error: unknown) => {
        if (this.stopped || this.reading !== reading) return;
        if (error instanceof ConfigError) this.refuseFirst(error.message);
        else this.options.onError(error);
      },
    );
  }

  /** Every streamed change passes here, before it is written: a change after a waiting chunk's `low` takes its row out. */
  observe(event: ChangeEvent): void {
    const reading = this.reading;
    if (reading === undefined || capturedName(event.source) !== reading.request.table) return;
    const { chunk, changed } = reading;
    if (chunk === undefined) reading.streamed.push({ position: event.source.position, key: rowKey(event) });
    else if (after(event.source.position, chunk)) changed!.add(rowKey(event));
  }

  /**
   * The stream is at the transaction boundary `at` (everything up to it is emitted, nothing after): if a
   * chunk waits, `at` is at or after its `high` and the chunk before it is durable, the chunk is emitted
   * here. The caller writes the rows, then the marker, then a token, then calls readNext() (the next chunk
   * is read while this one is written), and written() once that token is durable.
   */
  emitAt(at: string): EmittedChunk | undefined {
    const reading = this.reading;
    const chunk = reading?.chunk;
    if (this.unwritten || reading === undefined || chunk === undefined || comparePositions(at, chunk.high) < 0) return undefined;
    this.unwritten = true;
    const { request } = reading;
    const rows = placeAt(chunk.rows, chunk.high, reading.changed!);
    request.from ??= chunk.low;
    request.rows += rows.length;
    request.chunks += 1;
    if (chunk.lastKey !== undefined) request.lastKey = chunk.lastKey;
    this.reading = undefined;
    if (!chunk.done) return { rows, request: { ...request } };
    this.requests.shift();
    const { connector } = this.options;
    const source: SourceInfo = { connector: connector.connector, name: connector.name, db: chunk.db, table: chunk.tableName, position: request.from, tsMs: Date.now(), snapshot: true };
    return { rows, request: { ...request }, marker: truncateEvent(source, chunk.schema) };
  }

  /** Takes the requests of tables `keep` rejects out of the queue (before the first read: none is in flight); returns them. */
  drop(keep: (table: string) => boolean): IncrementalSnapshotProgress[] {
    const dropped = this.requests.filter((request) => request !== this.reading?.request && !keep(request.table));
    for (const request of dropped) this.requests.splice(this.requests.indexOf(request), 1);
    return dropped;
  }

  /** The token after the last chunk emitted is durable: the next chunk may go in. */
  written(): void {
    this.unwritten = false;
  }

  /** No more reads; a read in flight is ignored when it returns. */
  stop(): void {
    this.stopped = true;
    this.reading = undefined;
  }

  private refuseFirst(reason: string): void {
    const request = this.requests.shift()!;
    this.reading = undefined;
    this.options.onTableRefused(request, reason);
    this.readNext();
  }
}

/** A table's name as its source's `tables()` gives it: `db.table` for MySQL, the collection for MongoDB. */
export function capturedName(source: Pick<SourceInfo, 'connector' | 'db' | 'table'>): string {
  return source.connector === 'mongodb' ? source.table : `${source.db}.${source.table}`;
}

/** A change the read may not have seen: the chunk's row, if any, must give way to it. */
function after(position: string, chunk: IncrementalChunk): boolean {
  return comparePositions(position, chunk.low) > 0;
}

function rowKey(event: ChangeEvent): string {
  return encodeRowKey(event).toString('latin1');
}

/** The rows not changed since the read, each at position `high` (one SourceInfo per distinct one the rows shared). */
function placeAt(rows: readonly ChangeEvent[], high: string, changed: ReadonlySet<string>): ChangeEvent[] {
  const sources = new Map<SourceInfo, SourceInfo>();
  const placed: ChangeEvent[] = [];
  for (const row of rows) {
    if (changed.size > 0 && changed.has(rowKey(row))) continue;
    let source = sources.get(row.source);
    if (source === undefined) {
      source = { ...row.source, position: high };
      sources.set(row.source, source);
    }
    row.source = source;
    placed.push(row);
  }
  return placed;
}
