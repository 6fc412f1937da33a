import { Observable } from 'rxjs';
import { truncateEvent, type ChangeEvent, type Op, type Row } from '../change-event.ts';
import type { FlowControl } from '../flow-control.ts';
import type { IncrementalChunk, LogPosition, SnapshotItem, SourceConnector, SplitTable, StreamCursor, StreamItem } from '../source.ts';
import type { SourceToken, TableSnapshotProgress } from '../token.ts';
import { changeEvent } from './change-event.ts';

/** One change a test commits to a FakeDatabase (`after` for `c` and `u`). */
export interface FakeChange {
  op: Op;
  table: string;
  id: number;
  after?: Row;
}

const position = (index: number) => String(index).padStart(12, '0');
/** The database of every FakeDatabase table. */
const FAKE_DB = 'app';

/**
 * A database with a log of transactions and the rows they made: the fake behind FakeSource. Keys are
 * one integer column `id` in db `app`. A test commits transactions to it while a topology runs.
 */
export class FakeDatabase {
  readonly rows = new Map<string, Map<number, Row>>();
  /** Transactions in commit order; a transaction's position is its index + 1. */
  readonly log: ChangeEvent[][] = [];
  private wakers = new Set<() => void>();

  commit(changes: readonly FakeChange[]): void {
    const at = position(this.log.length + 1);
    const events = changes.map((change) => {
      const table = this.rows.get(change.table) ?? new Map<number, Row>();
      this.rows.set(change.table, table);
      const before = table.get(change.id) ?? null;
      if (change.op === 'd') table.delete(change.id);
      else table.set(change.id, change.after!);
      return changeEvent({ op: change.op, key: { id: change.id }, before, after: change.op === 'd' ? null : change.after!, source: { name: 'fake', table: change.table, position: at } });
    });
    this.log.push(events);
    for (const wake of this.wakers) wake();
  }

  /** The rows of `table` as they were after the first `transactions` transactions of the log. */
  rowsAt(table: string, transactions: number): Map<number, Row> {
    const rows = new Map(this.rows.get(table));
    for (const transaction of this.log.slice(transactions).reverse()) {
      for (const event of [...transaction].reverse()) {
        if (event.source.table !== table) continue;
        const id = Number(event.key.id);
        if (event.before === null) rows.delete(id);
        else rows.set(id, event.before);
      }
    }
    return rows;
  }

  changed(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wakers.delete(wake);
        resolve();
      };
      this.wakers.add(wake);
    });
  }
}


/** Options of `new FakeSource(...)`, some to make it fail on purpose. */
export interface FakeSourceOptions {
  chunkSize?: number;
  /** The log the token points into is gone. */
  logLost?: boolean;
  /** The snapshot fails (as a lost connection) after this many chunks. */
  failSnapshotAfterChunks?: number;
  /** Where calls are recorded, to interleave them with other records of a test. */
  calls?: string[];
  /**
   * An incremental chunk read returns the rows as they were this many transactions ago (its `low`) while
   * claiming nothing newer than now (its `high`), as a read of a server that cannot tell its exact log
   * position may: the rows changed in between must be dropped from the chunk. 0 (default): exact reads.
   */
  chunkWindow?: number;
  /** Incremental chunk reads fail (as a lost connection) after this many. */
  failChunksAfter?: number;
  /** Awaited at the start of every chunk read: a test holds reads there (a process stuck mid-range). */
  chunkGate?: () => Promise<void>;
  /** Awaited at the start of every table split: a test holds a spread snapshot's owner there, before it publishes. */
  splitGate?: () => Promise<void>;
}

/**
 * A SourceConnector over a FakeDatabase, for tests of a whole topology on the MemoryTransport: it snapshots
 * the database's rows in chunks, then streams its log, honouring flow control, and records what was called.
 */
export class FakeSource implements SourceConnector {
  readonly connector = 'mysql' as const;
  readonly calls: string[];
  readonly snapshotProgress: Array<Record<string, TableSnapshotProgress>> = [];
  private chunkReads = 0;
  /** How many transactions of the log the latest stream() has begun to emit. */
  private streamedTo = 0;

  constructor(
    readonly name: string,
    private readonly db: FakeDatabase,
    private readonly options: FakeSourceOptions = {},
  ) {
    this.calls = options.calls ?? [];
  }

  async check(): Promise<void> {}

  async openLog(): Promise<LogPosition> {
    this.calls.push('openLog');
    return { position: position(this.db.log.length), resume: { index: this.db.log.length } };
  }

  async canResume(_token: SourceToken): Promise<boolean> {
    return !this.options.logLost;
  }

  /** `app.<table>`, as a MySQL source names tables. */
  async tables(): Promise<string[]> {
    return [...this.db.rows.keys()].sort().map((table) => `${FAKE_DB}.${table}`);
  }

  async readChunk(table: string, afterKey: string | undefined, size: number, upToKey?: string): Promise<IncrementalChunk | undefined> {
    this.calls.push(`readChunk ${table} after ${afterKey ?? '-'}${upToKey === undefined ? '' : ` up to ${upToKey}`}`);
    await this.options.chunkGate?.();
    if (this.options.failChunksAfter !== undefined && this.chunkReads++ >= this.options.failChunksAfter) throw new Error('connection lost during an incremental chunk');
    // A read takes a round trip: writes of other clients land meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    const tableName = table.slice(FAKE_DB.length + 1);
    if (!this.db.rows.has(tableName)) return undefined;
    const at = this.db.log.length;
    // A real read's window never reaches back before what the stream has emitted: the server's log is ahead of any reader.
    const low = Math.max(this.streamedTo, at - (this.options.chunkWindow ?? 0));
    const rows = this.db.rowsAt(tableName, low);
    const ids = [...rows.keys()]
      .filter((id) => (afterKey === undefined || id > Number(afterKey)) && (upToKey === undefined || id <= Number(upToKey)))
      .sort((a, b) => a - b)
      .slice(0, size);
    const high = position(at);
    const source = { name: this.name, table: tableName, position: high };
    return {
      rows: ids.map((id) => changeEvent({ op: 'r', key: { id }, after: rows.get(id)!, source })),
      lastKey: ids.length === 0 ? undefined : String(ids.at(-1)),
      done: ids.length < size,
      low: position(low),
      high,
      db: FAKE_DB,
      tableName,
    };
  }

  /** Every `rowsPerRange`-th id, as SourceConnector.splitTable. */
  async splitTable(table: string, rowsPerRange: number, from: LogPosition): Promise<SplitTable | undefined> {
    this.calls.push(`splitTable ${table}`);
    await this.options.splitGate?.();
    const tableName = table.slice(FAKE_DB.length + 1);
    const rows = this.db.rows.get(tableName);
    if (rows === undefined) return undefined;
    const ids = [...rows.keys()].sort((a, b) => a - b);
    const bounds: string[] = [];
    for (let i = rowsPerRange - 1; i < ids.length; i += rowsPerRange) bounds.push(String(ids[i]));
    return { bounds, marker: truncateEvent({ connector: 'mysql', name: this.name, db: FAKE_DB, table: tableName, position: from.position, tsMs: Date.now(), snapshot: true }, undefined) };
  }

  snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl): Observable<SnapshotItem> {
    this.calls.push('snapshot');
    this.snapshotProgress.push(progress);
    const chunkSize = this.options.chunkSize ?? 10;
    let chunksLeft = this.options.failSnapshotAfterChunks ?? Infinity;
    const db = this.db;
    const tables = [...db.rows.keys()].sort();
    return emitAsync<SnapshotItem>(flow, async function* () {
      for (const table of tables) {
        const name = `${FAKE_DB}.${table}`;
        const done = progress[name];
        if (done?.done) continue;
        const ids = [...db.rows.get(table)!.keys()].sort((a, b) => a - b).filter((id) => done?.lastKey === undefined || id > Number(done.lastKey));
        let rows = done?.rows ?? 0;
        let chunks = done?.chunks ?? 0;
        for (let i = 0; i < ids.length; i += chunkSize) {
          const chunk = ids.slice(i, i + chunkSize);
          for (const id of chunk) yield { kind: 'row', event: changeEvent({ op: 'r', key: { id }, after: db.rows.get(table)!.get(id)!, source: { name: 'fake', table, position: from.position } }) };
          rows += chunk.length;
          chunks += 1;
          const last = i + chunkSize >= ids.length;
          yield { kind: 'chunkDone', table: name, progress: { done: last, rows, chunks, lastKey: String(chunk[chunk.length - 1]) } };
          if (--chunksLeft === 0) throw new Error('connection lost during the snapshot');
        }
      }
    });
  }

  stream(from: LogPosition, flow: FlowControl, cursor?: StreamCursor): Observable<StreamItem> {
    this.calls.push('stream');
    const db = this.db;
    this.streamedTo = Number(from.position);
    let emitted: number | undefined = Number(from.position);
    const begun = (index: number) => (this.streamedTo = index + 1);
    if (cursor) cursor.boundary = () => (emitted === undefined ? undefined : { position: position(emitted), resume: { index: emitted } });
    return emitAsync<StreamItem>(flow, async function* () {
      for (let index = Number(from.position); ; index++) {
        while (index >= db.log.length) await db.changed();
        emitted = undefined;
        begun(index);
        for (const event of db.log[index]!) yield { kind: 'change', event };
        yield { kind: 'commit', position: { position: position(index + 1), resume: { index: index + 1 } } };
        emitted = index + 1;
        // Reading the log takes a round trip per transaction: a busy writer gets ahead of the stream, as on a real server.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  async close(): Promise<void> {}
}

/** Emits a generator's items, waiting while `flow` is paused and stopping when unsubscribed. */
function emitAsync<T>(flow: FlowControl, generate: () => AsyncGenerator<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    let stopped = false;
    void (async () => {
      try {
        for await (const item of generate()) {
          if (stopped) return;
          subscriber.next(item);
          if (flow.paused) await flow.resumed();
        }
        subscriber.complete();
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
