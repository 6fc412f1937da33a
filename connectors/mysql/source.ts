import { defer, from as fromPromise, switchMap, type Observable } from 'rxjs';
import mysql from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { ConfigError, SourceMisconfiguredError } from '../../topology/errors.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../topology/heartbeat.ts';
import type { IncrementalChunk, LogPosition, SnapshotItem, SourceConnector, SplitTable, StreamCursor, StreamItem } from '../../topology/source.ts';
import type { SourceToken, TableSnapshotProgress } from '../../topology/token.ts';
import { streamBinlog } from './binlog-stream.ts';
import { classifyConnectionError, connectionOptions, describeServer } from './connection.ts';
import { readIncrementalChunk } from './incremental-chunk.ts';
import { boundaryPosition, readResume, type BinlogResume } from './position.ts';
import { estimateTableRows, listTables, readTable, type CapturedTable } from './schema-reader.ts';
import { misconfigurations, readServerFacts } from './server-check.ts';
import { snapshotTables } from './snapshot.ts';
import { splitTable } from './table-split.ts';
import { TableFilter } from './table-filter.ts';

/** Options of `new MySqlSource(...)`; docs/mysql-source.md describes them. */
export interface MySqlSourceConfig {
  /** The source's name in the pipeline. */
  name: string;
  /** mysql://user:password@host:port or mariadb://…; the password never appears in errors or logs. */
  url: string;
  /** Replica server id for the binlog connection: unique among the server's replicas (1 … 2^32-1). */
  serverId: number;
  /** `db.table` globs (`*`, `?`) of the captured tables; none: every table outside the system schemas. */
  include?: string[];
  /** `db.table` globs of tables left out, even when included. */
  exclude?: string[];
  /** Rows per snapshot query. */
  chunkSize?: number;
  /** Tables snapshotted at once. */
  parallelism?: number;
  /** Key columns by `db.table` for tables without a primary key (snapshot in chunks, event keys). */
  keys?: Record<string, string[]>;
  /**
   * At most one token commit per this many ms at a binlog position without captured changes (another
   * database's transaction, a rotation), so an idle source's token keeps up with the binlog; 0: only at
   * the first such position of each binlog file. Default 10 000.
   */
  heartbeatIntervalMs?: number;
  /** Where warnings go (a table snapshotted without a key). */
  warn?: (message: string) => void;
}

const DEFAULT_CHUNK_SIZE = 10_000;
const DEFAULT_PARALLELISM = 2;
const MAX_SERVER_ID = 2 ** 32 - 1;

/**
 * MySQL/MariaDB source: a lock-free keyset snapshot and binlog streaming with zongji. The token
 * protocol that orders these steps is topology/source-runner.ts; see docs/mysql-source.md.
 */
export class MySqlSource implements SourceConnector {
  readonly connector = 'mysql';
  readonly name: string;
  private readonly server: string;
  private readonly callbackPool: mysql.Pool;
  private readonly pool: Pool;
  private readonly filter: TableFilter;
  private readonly keys: Readonly<Record<string, string[]>>;
  private readonly chunkSize: number;
  private readonly parallelism: number;
  private readonly heartbeatIntervalMs: number;
  private mariadb: Promise<boolean> | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly config: MySqlSourceConfig) {
    this.name = config.name;
    this.server = describeServer(config.url);
    this.chunkSize = positiveInteger(config.chunkSize ?? DEFAULT_CHUNK_SIZE, 'chunkSize', config.name);
    this.parallelism = positiveInteger(config.parallelism ?? DEFAULT_PARALLELISM, 'parallelism', config.name);
    this.heartbeatIntervalMs = config.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    if (!Number.isInteger(this.heartbeatIntervalMs) || this.heartbeatIntervalMs < 0) {
      throw new ConfigError(`MySQL source ${config.name}: heartbeatIntervalMs must be a whole number of ms, 0 or more (0: no heartbeats), got ${config.heartbeatIntervalMs}`);
    }
    if (!Number.isInteger(config.serverId) || config.serverId < 1 || config.serverId > MAX_SERVER_ID) {
      throw new ConfigError(`MySQL source ${config.name}: serverId must be an integer from 1 to ${MAX_SERVER_ID}, got ${config.serverId}`);
    }
    this.filter = new TableFilter(config.include, config.exclude);
    this.keys = config.keys ?? {};
    this.callbackPool = mysql.createPool({ ...connectionOptions(config.url), connectionLimit: this.parallelism + 1 });
    // TIMESTAMP values are canonical in UTC, as zongji decodes them with timezone 'Z'.
    this.callbackPool.on('connection', (connection) => connection.query("SET time_zone = '+00:00'"));
    this.pool = this.callbackPool.promise();
  }

  async check(): Promise<void> {
    const problems = misconfigurations(await this.query(() => readServerFacts(this.pool)));
    if (problems.length > 0) throw new SourceMisconfiguredError(`MySQL source ${this.name} (${this.server}): ${problems.join('; ')}`);
  }

  async openLog(): Promise<LogPosition> {
    const resume = await this.query(async () => {
      const { file, pos } = await this.binlogNow();
      const gtidVariable = (await this.isMariaDb()) ? '@@GLOBAL.gtid_binlog_pos' : '@@GLOBAL.gtid_executed';
      const [[{ gtid }]] = (await this.pool.query(`SELECT ${gtidVariable} AS gtid`)) as unknown as [[{ gtid: string | null }]];
      return { file, pos, gtid: (gtid ?? '').replace(/\s/g, '') } satisfies BinlogResume;
    });
    return { position: boundaryPosition(resume), resume: { ...resume } };
  }

  async canResume(token: SourceToken): Promise<boolean> {
    const { file, pos } = readResume(token.resume);
    const [logs] = (await this.query(() => this.pool.query('SHOW BINARY LOGS'))) as unknown as [Array<{ Log_name: string; File_size: string }>];
    const log = logs.find((candidate) => candidate.Log_name === file);
    return log !== undefined && pos <= Number(log.File_size);
  }

  tables(): Promise<string[]> {
    return this.query(() => listTables(this.pool, this.filter));
  }

  estimateRows(tables: readonly string[]): Promise<Record<string, number>> {
    return this.query(() => estimateTableRows(this.pool, tables));
  }

  snapshot(from: LogPosition, progress: Record<string, TableSnapshotProgress>, flow: FlowControl): Observable<SnapshotItem> {
    return defer(() => fromPromise(this.tables())).pipe(
      switchMap((tables) =>
        snapshotTables(
          {
            sourceName: this.name,
            pool: this.callbackPool,
            chunkSize: this.chunkSize,
            parallelism: this.parallelism,
            loadTable: (db, table) => this.loadTable(db, table),
            warn: this.config.warn ?? ((message) => console.warn(`MySQL source ${this.name}: ${message}`)),
          },
          tables,
          from,
          progress,
          flow,
        ),
      ),
    );
  }

  stream(from: LogPosition, flow: FlowControl, cursor?: StreamCursor): Observable<StreamItem> {
    return streamBinlog(
      {
        sourceName: this.name,
        connection: connectionOptions(this.config.url),
        serverId: this.config.serverId,
        server: this.server,
        filter: this.filter,
        loadTable: (db, table) => this.loadTable(db, table),
        heartbeatIntervalMs: this.heartbeatIntervalMs,
      },
      from,
      flow,
      cursor,
    );
  }

  readChunk(table: string, afterKey: string | undefined, size: number, upToKey?: string): Promise<IncrementalChunk | undefined> {
    return this.query(async () =>
      readIncrementalChunk(
        {
          sourceName: this.name,
          pool: this.pool,
          mariadb: await this.isMariaDb(),
          binlogNow: () => this.binlogNow(),
          loadTable: (db, name) => this.loadTable(db, name),
        },
        table,
        afterKey,
        size,
        upToKey,
      ),
    );
  }

  splitTable(table: string, rowsPerRange: number, from: LogPosition): Promise<SplitTable | undefined> {
    return this.query(() => splitTable({ sourceName: this.name, pool: this.pool, loadTable: (db, name) => this.loadTable(db, name) }, table, rowsPerRange, from));
  }

  /** Idempotent: the topology closes its sources when it stops, and so may their owner. */
  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  private loadTable(db: string, table: string): Promise<CapturedTable | undefined> {
    return this.query(() => readTable(this.pool, db, table, this.keys));
  }

  private isMariaDb(): Promise<boolean> {
    this.mariadb ??= this.pool.query('SELECT VERSION() AS version').then(
      ([rows]) => /mariadb/i.test((rows as Array<{ version: string }>)[0]!.version),
      (error: unknown) => {
        // Asked again next time: incremental chunks ask for as long as the source streams.
        this.mariadb = undefined;
        throw error;
      },
    );
    return this.mariadb;
  }

  /** The binlog's current file and position. */
  private async binlogNow(): Promise<Pick<BinlogResume, 'file' | 'pos'>> {
    const [status] = await this.binlogStatus();
    if (status === undefined) {
      throw new SourceMisconfiguredError(`MySQL source ${this.name} (${this.server}): the binary log is off: start the server with log_bin=binlog in its config`);
    }
    return { file: status.File, pos: Number(status.Position) };
  }

  /** SHOW MASTER STATUS, named SHOW BINARY LOG STATUS since MySQL 8.4. */
  private async binlogStatus(): Promise<Array<{ File: string; Position: string }>> {
    const statement = (await this.isMariaDb()) ? 'SHOW MASTER STATUS' : 'SHOW BINARY LOG STATUS';
    const [rows] = await this.pool.query(statement).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'ER_PARSE_ERROR') return this.pool.query('SHOW MASTER STATUS');
      throw error;
    });
    return rows as Array<{ File: string; Position: string }>;
  }

  /** Runs a server request, turning network failures into UnreachableError (named without password). */
  private async query<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw classifyConnectionError(error, `${this.server} (source ${this.name})`);
    }
  }
}

function positiveInteger(value: number, option: string, source: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`MySQL source ${source}: ${option} must be a positive integer, got ${value}`);
  return value;
}
