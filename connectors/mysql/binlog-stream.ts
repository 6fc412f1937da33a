import { Observable, type Subscriber } from 'rxjs';
import type { ConnectionOptions } from 'mysql2';
import ZongJi, {
  GtidSet,
  MariadbGtidPosition,
  type AnyBinlogEvent,
  type ColumnSchema as BinlogColumn,
  type DeleteRowsEvent,
  type MariadbGtidEvent,
  type QueryEvent,
  type TableMapEvent,
  type UpdateRowsEvent,
  type WriteRowsEvent,
} from '@vlasky/zongji';
import { truncateEvent, type ChangeEvent, type Op, type Row, type SourceInfo, type TableSchema, type Value } from '../../topology/change-event.ts';
import { PositionLostError, SourceMisconfiguredError } from '../../topology/errors.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import { HeartbeatPacer } from '../../topology/heartbeat.ts';
import type { LogPosition, StreamCursor, StreamItem } from '../../topology/source.ts';
import { alignRowDecoding } from './binlog-decoding.ts';
import { canonicalRowConverter, columnSchema } from './column-types.ts';
import { classifyConnectionError } from './connection.ts';
import { binlogFileIndex, changePosition, eventPositionPrefix, readResume, type BinlogResume } from './position.ts';
import { qualifiedName, type CapturedTable } from './schema-reader.ts';
import { truncatedTable } from './sql.ts';
import type { TableFilter } from './table-filter.ts';

export interface StreamSettings {
  sourceName: string;
  /** mysql2 options for zongji's connections (connection.ts: decoding options included). */
  connection: ConnectionOptions;
  /** Replica server id this reader announces; unique among the server's replicas. */
  serverId: number;
  /** The server without password, for errors. */
  server: string;
  filter: TableFilter;
  loadTable: (db: string, table: string) => Promise<CapturedTable | undefined>;
  /** At most one commit per this interval at a position without captured changes (topology/heartbeat.ts); 0: none. */
  heartbeatIntervalMs: number;
}

/**
 * The header events of a binlog file (format description; MySQL's previous GTIDs; MariaDB's GTID list and
 * binlog checkpoints, the latter also written later in a file) carry no change but move the position: an
 * idle reader's boundary passes them only if it sees them. A few per file, so cheap.
 */
const HEADER_EVENTS = ['format', 'previousgtids', 'mariadbgtidlist', 'binlogcheckpoint'];
const EVENTS = ['rotate', 'mariadbgtid', 'gtid', 'anonymousgtid', 'query', 'xid', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'transactionpayload', ...HEADER_EVENTS];
const DDL = /^\s*(?:\/\*.*?\*\/\s*)*(ALTER|CREATE|DROP|TRUNCATE|RENAME)\b/is;
const BEGIN = /^\s*(BEGIN|XA START)\b/i;
const COMMIT = /^\s*(COMMIT|ROLLBACK|XA COMMIT|XA ROLLBACK)\b/i;
/** ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested binlog file or position is not on the server. */
const BINLOG_GONE = 1236;

/**
 * Streams the binlog from `from` as change, commit and schema items (see MySqlSource.stream), and sets
 * `cursor.boundary` to the reader's boundary (StreamCursor).
 */
export function streamBinlog(settings: StreamSettings, from: LogPosition, flow: FlowControl, cursor?: StreamCursor): Observable<StreamItem> {
  return new Observable<StreamItem>((subscriber) => {
    const reader = new BinlogReader(settings, readResume(from.resume), flow, subscriber);
    if (cursor !== undefined) cursor.boundary = () => reader.boundary();
    return () => reader.stop();
  });
}

type TransactionGtid = MariadbGtidEvent | { gtid: string };
type GtidTracker = { add(gtid: TransactionGtid): void; toString(): string };

/** MariaDB keeps a position per domain, MySQL a set; a start value of the other flavour is dropped. */
function newGtidTracker(mariadb: boolean, start: string): GtidTracker {
  const startOfFlavour = start.includes(':') === !mariadb ? start : '';
  if (mariadb) {
    const position = MariadbGtidPosition.parse(startOfFlavour);
    return { add: (gtid) => position.add(gtid as MariadbGtidEvent), toString: () => position.toString() };
  }
  const set = GtidSet.parse(startOfFlavour);
  return { add: (gtid) => set.add(gtid.gtid), toString: () => set.toString() };
}

class BinlogReader {
  private readonly zongji: ZongJi;
  private file: string;
  private fileIndex: number;
  /** End position of the latest event with a real one (MariaDB may write 0 inside transactions). */
  private anchor: number;
  private ordinal = 0;
  private prefix: string | undefined;
  /** The transaction being read: its id (GTID, or file:pos of BEGIN) and whether it changed a captured table. */
  private txId: string | undefined;
  private txGtid: TransactionGtid | undefined;
  private txHasChanges = false;
  private gtids: GtidTracker | undefined;
  private readonly startGtid: string;
  /**
   * Positions without captured changes (another database's transaction, a rotation) move the token once per
   * heartbeat interval, and at the first of each binlog file whatever the interval, so it never points
   * into a file that may be purged.
   */
  private lastCommitFile: string;
  private readonly heartbeats: HeartbeatPacer;
  /** Tables by the table id of the latest TableMap; null: not captured. */
  private readonly mapped = new Map<number, CapturedTable | null>();
  private readonly known = new Map<string, CapturedTable>();
  /** Tables whose schema may have changed (a DDL was seen): re-read at their next TableMap. */
  private readonly stale = new Set<string>();
  /** Events that arrived while an earlier one waits (schema read, paused flow); handled in order after it. */
  private readonly queue: AnyBinlogEvent[] = [];
  private busy = false;

  constructor(
    private readonly settings: StreamSettings,
    resume: BinlogResume,
    private readonly flow: FlowControl,
    private readonly subscriber: Subscriber<StreamItem>,
  ) {
    this.file = resume.file;
    this.fileIndex = binlogFileIndex(resume.file);
    this.anchor = resume.pos;
    this.lastCommitFile = resume.file;
    this.heartbeats = new HeartbeatPacer(settings.heartbeatIntervalMs);
    this.startGtid = resume.gtid;
    this.zongji = new ZongJi(settings.connection);
    // zongji's own schema filter takes exact names, ours globs: with ours in its place it drops the
    // TableMaps of tables not captured, and so never decodes their rows (on a busy server most of the binlog).
    (this.zongji as unknown as { _skipSchema(db: string, table: string): boolean })._skipSchema = (db, table) => !settings.filter.captures(db, table);
    this.zongji.on('error', (error) => this.fail(error));
    this.zongji.on('binlog', (event) => this.receive(event));
    this.zongji.start({ serverId: settings.serverId, filename: resume.file, position: resume.pos, includeEvents: EVENTS });
  }

  stop(): void {
    this.zongji.stop();
  }

  /**
   * Between transactions with no event waiting (a schema read, a paused flow), the position of
   * everything emitted: the end of the last event handled. Built on call, so the hot path pays nothing.
   */
  boundary(): LogPosition | undefined {
    return this.busy || this.queue.length > 0 || !this.betweenTransactions() ? undefined : this.logPosition(this.anchor);
  }

  private betweenTransactions(): boolean {
    return this.txId === undefined && !this.txHasChanges;
  }

  private receive(event: AnyBinlogEvent): void {
    if (this.busy) this.queue.push(event);
    else this.run(event);
  }

  private run(first: AnyBinlogEvent | undefined): void {
    for (let event = first; event !== undefined && !this.subscriber.closed; event = this.queue.shift()) {
      let wait: Promise<void> | undefined;
      try {
        wait = this.handle(event);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (wait !== undefined) {
        this.busy = true;
        this.zongji.connection?.pause();
        wait.then(
          () => {
            this.busy = false;
            this.run(this.queue.shift());
            if (!this.busy) this.zongji.connection?.resume();
          },
          (error: unknown) => this.fail(error),
        );
        return;
      }
    }
  }

  /** Handles one event; returns a promise when reading must wait for it. */
  private handle(event: AnyBinlogEvent): Promise<void> | undefined {
    const type = event.getTypeName();
    if (type === 'Rotate') {
      const rotate = event as Extract<AnyBinlogEvent, { getTypeName(): 'Rotate' }>;
      // The rotate at the start of a dump names the file it starts in: only a switch is a new position.
      const switched = rotate.binlogName !== this.file;
      this.file = rotate.binlogName;
      this.fileIndex = binlogFileIndex(rotate.binlogName);
      this.moveAnchor(rotate.position);
      return switched && this.betweenTransactions() && this.heartbeatDue() ? this.emitCommit(rotate.position, true) : undefined;
    }
    if (event.nextPosition > 0 && event.nextPosition !== this.anchor) this.moveAnchor(event.nextPosition);
    switch (type) {
      case 'MariadbGtid':
      case 'Gtid':
        this.txGtid = event as TransactionGtid;
        this.txId = event.gtid;
        return undefined;
      case 'AnonymousGtid':
        this.txGtid = undefined;
        this.txId = undefined;
        return undefined;
      case 'Query':
        return this.query(event as QueryEvent);
      case 'Xid':
        return this.commit(event.nextPosition);
      case 'TableMap':
        return this.tableMap(event as TableMapEvent);
      case 'WriteRows':
        return this.rows(event as WriteRowsEvent, 'c');
      case 'DeleteRows':
        return this.rows(event as DeleteRowsEvent, 'd');
      case 'UpdateRows':
        return this.rows(event as UpdateRowsEvent, 'u');
      case 'TransactionPayload':
        throw this.compressedTransactions();
      default:
        return undefined;
    }
  }

  private moveAnchor(position: number): void {
    this.anchor = position;
    this.ordinal = 0;
    this.prefix = undefined;
  }

  private query(event: QueryEvent): Promise<void> | undefined {
    if (BEGIN.test(event.query)) {
      this.txId ??= `${this.file}:${event.nextPosition}`;
      return undefined;
    }
    if (DDL.test(event.query)) {
      for (const name of this.known.keys()) this.stale.add(name);
      const truncated = truncatedTable(event.query, event.schema);
      if (truncated !== undefined && this.settings.filter.captures(truncated.db, truncated.table)) return this.truncate(event, truncated);
      return this.commit(event.nextPosition);
    }
    if (COMMIT.test(event.query)) return this.commit(event.nextPosition);
    return undefined;
  }

  /**
   * TRUNCATE TABLE of a captured table: a `t` event at the statement's end position (after every change
   * before it, before every change after it), then the statement's own commit. The schema only names the
   * event's Avro subject: the one in force from the stream, else the server's. A table gone from the
   * server before it was ever read has nothing to name it by: its DROP is not captured either.
   */
  private async truncate(event: QueryEvent, truncated: { db: string; table: string }): Promise<void> {
    const name = qualifiedName(truncated.db, truncated.table);
    const table = this.known.get(name) ?? (await this.settings.loadTable(truncated.db, truncated.table));
    if (table !== undefined) {
      const position = changePosition(eventPositionPrefix(this.fileIndex, event.nextPosition), 0);
      const source: SourceInfo = { connector: 'mysql', name: this.settings.sourceName, db: table.schema.db, table: table.schema.table, position, tsMs: event.timestamp, snapshot: false };
      if (event.gtid !== undefined) source.txId = event.gtid;
      this.subscriber.next({ kind: 'change', event: truncateEvent(source, table.schema) });
      this.txHasChanges = true;
    }
    await this.commit(event.nextPosition);
  }

  private commit(endPosition: number): Promise<void> | undefined {
    if (this.txGtid !== undefined) this.gtidTracker(this.txGtid).add(this.txGtid);
    const hadChanges = this.txHasChanges;
    this.txId = undefined;
    this.txGtid = undefined;
    this.txHasChanges = false;
    if (!hadChanges && !this.heartbeatDue()) return undefined;
    return this.emitCommit(endPosition, !hadChanges);
  }

  /** Whether a position without captured changes is committed: the first of a binlog file, or a heartbeat. */
  private heartbeatDue(): boolean {
    return this.lastCommitFile !== this.file || this.heartbeats.beat();
  }

  private emitCommit(endPosition: number, heartbeat: boolean): Promise<void> | undefined {
    this.lastCommitFile = this.file;
    this.heartbeats.moved();
    const position = this.logPosition(endPosition);
    this.subscriber.next(heartbeat ? { kind: 'commit', position, heartbeat } : { kind: 'commit', position });
    return this.flowWait();
  }

  /** The position between two transactions at `endPosition` of the current file, with the GTID state there. */
  private logPosition(endPosition: number): LogPosition {
    const resume: BinlogResume = { file: this.file, pos: endPosition, gtid: this.gtids?.toString() ?? this.startGtid };
    return { position: changePosition(eventPositionPrefix(this.fileIndex, endPosition), 0), resume: { ...resume } };
  }

  /** The GTID state after each commit; its flavour is known from the first GTID event. */
  private gtidTracker(first: TransactionGtid): GtidTracker {
    this.gtids ??= newGtidTracker('domainId' in first, this.startGtid);
    return this.gtids;
  }

  private tableMap(event: TableMapEvent): Promise<void> | undefined {
    if (!this.settings.filter.captures(event.schemaName, event.tableName)) {
      this.mapped.set(event.tableId, null);
      return undefined;
    }
    const columns = event.tableMap[event.tableId]?.columnSchemas ?? [];
    const name = qualifiedName(event.schemaName, event.tableName);
    const current = this.known.get(name);
    if (current !== undefined && !this.stale.has(name) && sameColumns(current.schema, columns)) {
      alignRowDecoding(event, current.schema.columns);
      this.mapped.set(event.tableId, current);
      return undefined;
    }
    return this.readTable(event, name, columns, current);
  }

  /**
   * (Re)reads a table's schema from information_schema for nullability and keys. If information_schema
   * already shows a later change (the binlog lags behind), the TableMap's own columns are used: they are
   * the schema in force for the events that follow it.
   */
  private async readTable(event: TableMapEvent, name: string, columns: BinlogColumn[], previous: CapturedTable | undefined): Promise<void> {
    let table = await this.settings.loadTable(event.schemaName, event.tableName);
    if (table !== undefined && sameColumns(table.schema, columns)) {
      alignRowDecoding(event, table.schema.columns);
    } else {
      alignRowDecoding(event);
      table = tableFromBinlog(event, columns, previous);
    }
    this.stale.delete(name);
    this.known.set(name, table);
    this.mapped.set(event.tableId, table);
    if (previous !== undefined && JSON.stringify(previous.schema) !== JSON.stringify(table.schema)) {
      this.subscriber.next({ kind: 'schema', schema: table.schema });
      await this.flowWait();
    }
  }

  private rows(event: WriteRowsEvent | DeleteRowsEvent | UpdateRowsEvent, op: Op): Promise<void> | undefined {
    const table = this.mapped.get(event.tableId);
    if (table === undefined || table === null) return undefined;
    this.prefix ??= eventPositionPrefix(this.fileIndex, this.anchor);
    this.txHasChanges = true;
    const { convert, keyColumns } = table;
    const madeAt = Date.now();
    if (op === 'u') {
      for (const { before, after } of (event as UpdateRowsEvent).rows) {
        convert?.(before as Row);
        convert?.(after as Row);
        const beforeKey = keyOf(before as Row, keyColumns);
        const afterKey = keyOf(after as Row, keyColumns);
        if (sameKey(beforeKey, afterKey, keyColumns)) {
          this.emit(table, event, madeAt, 'u', afterKey, before as Row, after as Row);
        } else {
          // A primary-key change is a delete of the old key and a create of the new one (docs/design.md, the change event).
          this.emit(table, event, madeAt, 'd', beforeKey, before as Row, null);
          this.emit(table, event, madeAt, 'c', afterKey, null, after as Row);
        }
      }
    } else {
      for (const row of (event as WriteRowsEvent | DeleteRowsEvent).rows as Row[]) {
        convert?.(row);
        this.emit(table, event, madeAt, op, keyOf(row, keyColumns), op === 'd' ? row : null, op === 'd' ? null : row);
      }
    }
    return this.flowWait();
  }

  private emit(table: CapturedTable, event: AnyBinlogEvent, madeAt: number, op: Op, key: Row, before: Row | null, after: Row | null): void {
    const { schema } = table;
    const change: ChangeEvent = {
      op,
      key,
      before,
      after,
      source: {
        connector: 'mysql',
        name: this.settings.sourceName,
        db: schema.db,
        table: schema.table,
        position: changePosition(this.prefix!, this.ordinal++),
        txId: event.gtid ?? this.txId,
        tsMs: event.timestamp,
        snapshot: false,
      },
      tsMs: madeAt,
      schema,
    };
    this.subscriber.next({ kind: 'change', event: change });
  }

  private flowWait(): Promise<void> | undefined {
    return this.flow.paused ? this.flow.resumed() : undefined;
  }

  private fail(error: unknown): void {
    this.zongji.stop();
    this.subscriber.error(this.explain(error));
  }

  private explain(error: unknown): unknown {
    const { errno, message } = error as { errno?: unknown; message?: unknown };
    if (errno === BINLOG_GONE) {
      return new PositionLostError(
        `binlog ${this.file} at ${this.anchor} is no longer on ${this.settings.server} (purged?): ${String(message)}; with snapshot: when_needed the source takes a fresh snapshot`,
        { cause: error },
      );
    }
    if (typeof message === 'string' && message.includes('binlog_transaction_compression')) return this.compressedTransactions(error);
    return classifyConnectionError(error, this.settings.server);
  }

  private compressedTransactions(cause?: unknown): SourceMisconfiguredError {
    return new SourceMisconfiguredError(
      `binlog ${this.file} holds compressed transactions: set binlog_transaction_compression=OFF on ${this.settings.server} (SET GLOBAL binlog_transaction_compression=OFF) because compressed transaction payloads cannot be decoded`,
      { cause },
    );
  }
}

function keyOf(row: Row, keyColumns: readonly string[]): Row {
  const key: Row = {};
  for (const column of keyColumns) key[column] = row[column] ?? null;
  return key;
}

function sameKey(a: Row, b: Row, keyColumns: readonly string[]): boolean {
  for (const column of keyColumns) if (!sameValue(a[column]!, b[column]!)) return false;
  return true;
}

function sameValue(a: Value, b: Value): boolean {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b;
}

function sameColumns(schema: TableSchema, columns: readonly BinlogColumn[]): boolean {
  if (schema.columns.length !== columns.length) return false;
  for (let index = 0; index < columns.length; index++) if (schema.columns[index]!.name !== columns[index]!.COLUMN_NAME) return false;
  return true;
}

/** A schema from the TableMap alone: nullability is unknown (so nullable), unique keys are not in the binlog. */
function tableFromBinlog(event: TableMapEvent, columns: readonly BinlogColumn[], previous: CapturedTable | undefined): CapturedTable {
  const names = columns.map((column) => column.COLUMN_NAME);
  const primaryKey = event.primaryKey?.map((index) => names[index]!) ?? previous?.keyColumns.filter((column) => names.includes(column)) ?? [];
  const schema: TableSchema = {
    db: event.schemaName,
    table: event.tableName,
    columns: columns.map((column) =>
      columnSchema({ name: column.COLUMN_NAME, columnType: column.COLUMN_TYPE, nullable: true, charset: column.CHARACTER_SET_NAME }),
    ),
    primaryKey,
    uniqueKeys: [],
  };
  return { schema, keyColumns: primaryKey, convert: canonicalRowConverter(schema) };
}
