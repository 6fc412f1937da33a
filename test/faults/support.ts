/**
 * Shared by the fault suite (test/faults/*.it.test.ts): pipeline configs for `cdc run` in child processes
 * (test/cli/support/cli.ts), a recording write load, SIGKILLs aimed at a phase of the pipeline, the
 * check that every write is in the change topic, `cdc verify`, `cdc snapshot` and `cdc status`, the
 * dead-letter topic, a plain consumer of the change topic, a private Kafka broker, and the summary each
 * file prints. Every pipeline, database and topic is named `fault_…`.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { BSON } from 'mongodb';
import type mysql from 'mysql2/promise';
import { status, type PipelineStatus, type SourceStatus } from '../../cli/commands/status.ts';
import { quoteTable } from '../../connectors/mysql/sql.ts';
import { silentLogger } from '../../topology/log.ts';
import type { PipelineConfig } from '../../cli/config-schema.ts';
import { loadConfig } from '../../cli/config.ts';
import { formatComparisons, isEqual, verifyPipeline, type TableComparison } from '../../cli/verify.ts';
import { kafkaInstance } from '../../scripts/stack/services/kafka.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import type { NotificationRecord } from '../../topology/notifications.ts';
import { withRetry } from '../../topology/retry.ts';
import type { SnapshotRequestResult } from '../../topology/snapshot-request.ts';
import { TokenFold } from '../../topology/token-store.ts';
import { tokenKey, type SourceToken } from '../../topology/token.ts';
import { topics } from '../../topology/topics.ts';
import type { ConsumedRecord } from '../../topology/transport.ts';
import { readToEnd } from '../../topology/transports/kafka/read-to-end.ts';
import { BackgroundRun, cdc, writeConfig } from '../cli/support/cli.ts';
import { avroSerde } from '../connectors/support/repartition-topic.ts';
import { PrivateServer, startPrivateServer } from '../support/private-server.ts';
import { stackEnv } from '../support/stack-env.ts';

export const env = stackEnv();
export const SOURCE = 's';
export const SINK = 'copy';

/** `fault_<name>_<8 hex>`: unique per run, so topics, groups and databases start empty. */
export function faultName(name: string): string {
  return `fault_${name}_${randomUUID().slice(0, 8)}`;
}

// ---------------------------------------------------------------------------------------------------
// The summary

export type KillPhase = 'first token' | 'snapshot' | 'streaming' | 'sink batch';

/** What one file injected and checked; printed with t.diagnostic at its end. */
export class FaultSummary {
  /** Kills per phase (a KillPhase, or another moment a file kills at). */
  readonly kills = new Map<string, number>();
  restarts = 0;
  eventsWritten = 0;
  rowsVerified = 0;
  differences = 0;
  dlqRecords = 0;
  readonly notes: string[] = [];

  killed(phase: string): void {
    this.kills.set(phase, (this.kills.get(phase) ?? 0) + 1);
  }

  get totalKills(): number {
    return [...this.kills.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Adds a `cdc verify --json` result: rows compared and differences found. */
  verified(results: TableComparison[]): void {
    for (const result of results) {
      this.rowsVerified += result.sourceRows;
      this.differences += result.differences.length + (result.missing ? 1 : 0);
    }
  }

  report(t: TestContext, file: string): void {
    const phases = [...this.kills].map(([phase, n]) => `${phase} ${n}`).join(', ');
    t.diagnostic(
      `fault summary (${file}): kills injected ${this.totalKills}${phases ? ` (${phases})` : ''}, restarts ${this.restarts}, ` +
        `events written ${this.eventsWritten}, rows verified ${this.rowsVerified}, differences ${this.differences}, DLQ records ${this.dlqRecords}`,
    );
    for (const note of this.notes) t.diagnostic(note);
  }
}

// ---------------------------------------------------------------------------------------------------
// Pipeline configs and runs

export type FaultSource =
  /** `tables`: the tables of `db` it includes (default: all, `db.*`). */
  /** `spreadSnapshot`: the initial snapshot read by every process of the pipeline (docs/spread-snapshot.md). */
  | { type: 'mysql'; url: string; db: string; tables?: readonly string[]; chunkSize: number; snapshot?: string; spreadSnapshot?: boolean }
  /** `collections`: the collections of `database` it includes (default: all). */
  | { type: 'mongodb'; url: string; database: string; collections?: readonly string[]; chunkSize: number; snapshot?: string };
export type FaultSink = { type: 'mysql'; url: string } | { type: 'mongodb'; url: string; database: string };

export interface FaultPipelineOptions {
  pipeline: string;
  source: FaultSource;
  sink: FaultSink;
  /** Default: the stack's. */
  brokers?: string;
  partitions?: number;
}

/**
 * A config file for one pipeline: source `s`, sink `copy`, 4 partitions, metrics on a free port, and the
 * broker's minimum session timeout (6 s), so a restart after a SIGKILL waits 6 s, not 30 s, for the
 * killed process's group memberships to expire. `rewrite` changes it in place (e.g. the snapshot mode).
 */
export class FaultConfig {
  readonly file: string;

  constructor(private options: FaultPipelineOptions) {
    this.file = writeConfig(this.text());
  }

  get pipeline(): string {
    return this.options.pipeline;
  }

  get config(): PipelineConfig {
    return loadConfig(this.file);
  }

  rewrite(change: (options: FaultPipelineOptions) => FaultPipelineOptions): void {
    this.options = change(this.options);
    writeFileSync(this.file, this.text());
  }

  remove(): void {
    rmSync(dirname(this.file), { recursive: true, force: true });
  }

  private text(): string {
    const { pipeline, source, sink } = this.options;
    const brokers = (this.options.brokers ?? env.KAFKA_BROKERS).split(',').map((broker) => `'${broker}'`).join(', ');
    const snapshot = source.snapshot ? `, snapshot: ${source.snapshot}` : '';
    const include = source.type === 'mysql' ? (source.tables ?? ['*']).map((table) => `'${source.db}.${table}'`).join(', ') : '';
    const collections = source.type === 'mongodb' && source.collections ? `, collections: { include: [${source.collections.map((name) => `'${name}'`).join(', ')}] }` : '';
    const sourceLine =
      source.type === 'mysql'
        ? `{ name: ${SOURCE}, type: mysql, url: '${source.url}', include: [${include}], chunkSize: ${source.chunkSize}${snapshot}${source.spreadSnapshot ? ', spreadSnapshot: true' : ''} }`
        : `{ name: ${SOURCE}, type: mongodb, url: '${source.url}', database: ${source.database}${collections}, chunkSize: ${source.chunkSize}, parallelism: 2${snapshot} }`;
    const sinkLine = sink.type === 'mysql' ? `{ name: ${SINK}, type: mysql, url: '${sink.url}' }` : `{ name: ${SINK}, type: mongodb, url: '${sink.url}', database: ${sink.database} }`;
    return `pipeline: ${pipeline}
kafka: { brokers: [${brokers}], sessionTimeoutMs: 6000 }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - ${sourceLine}
repartition: { partitions: ${this.options.partitions ?? 4} }
sinks:
  - ${sinkLine}
metrics: { port: 0 }
`;
  }
}

/**
 * Every `cdc run` a file started, with the group it belongs to (tests running at once in one file each
 * use their own), so an `after` hook or a test's cleanup can SIGKILL what still runs, also after a failure.
 */
const living = new Map<BackgroundRun, string>();
const ended = new WeakSet<BackgroundRun>();

export function startRun(file: string, group = file): BackgroundRun {
  const run = new BackgroundRun(['--config', file]);
  living.set(run, group);
  void run.exited.then(() => {
    living.delete(run);
    ended.add(run);
  });
  return run;
}

/** SIGKILLs the runs still alive: those of `group` (by default a run's group is its config file), or all. */
export async function killStrayRuns(group?: string): Promise<void> {
  const stray = [...living].filter(([, of]) => group === undefined || of === group).map(([run]) => run);
  for (const run of stray) run.kill();
  await Promise.all(stray.map((run) => run.exited));
}

function hasExited(run: BackgroundRun): boolean {
  return ended.has(run);
}

/** Runs every cleanup step, each even when one before it failed, so a cleanup never hides the test's own failure. */
export async function cleanUp(...steps: Array<() => unknown>): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      console.error(`cleanup: ${(error as Error).message}`);
    }
  }
}

/** The exit code of a run expected to end by itself; fails after `deadlineMs` with what it printed. */
export async function exitOf(run: BackgroundRun, what: string, deadlineMs = 60_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`cdc run did not exit within ${deadlineMs / 1000} s (${what}):\n${tail(run, 25)}`)), deadlineMs)));
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last lines of a run's output, for failure messages. */
export function tail(run: BackgroundRun, lines = 15): string {
  return run.output.trim().split('\n').slice(-lines).join('\n');
}

/** Sum of a metric's samples whose labels contain `labels` (e.g. `sink="copy"`), from a run's /metrics. */
export async function metric(run: BackgroundRun, name: string, labels = ''): Promise<number> {
  const { url } = await run.waitForLog('the metrics address', (line) => line.msg === 'metrics listening');
  const scrape = async (attempt: number): Promise<string> => {
    try {
      return await (await fetch(String(url))).text();
    } catch (error) {
      // A scrape can fail on a busy machine; a process that exited is the real failure.
      await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, 200))]);
      if (hasExited(run) || attempt === 10) throw new Error(`cannot read ${name} of cdc run (exit code ${hasExited(run) ? String(await run.exited) : 'none: it runs'})\n${tail(run)}`, { cause: error });
      return scrape(attempt + 1);
    }
  };
  const text = await scrape(1);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.slice(name.length, line.lastIndexOf(' ')).includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Waits until `check` holds, polling every `everyMs`; fails after `deadlineMs` saying what never happened. */
export async function until(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 60_000, everyMs = 50): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`never happened within ${deadlineMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const logged = (run: BackgroundRun, msg: string) => run.logs.some((line) => line.msg === msg);

/**
 * Waits for `phase` in `run` and SIGKILLs it there, after a random 0-150 ms so kills do not always land
 * on the same step. Returns false without killing when the phase is over already (a snapshot that
 * finished). The phases, as seen from outside:
 * - first token: the source logged its first token as committed (before the snapshot's first read);
 * - snapshot: snapshot rows are counted and the source does not stream yet;
 * - streaming: the source streams and has written 20 events since this process started;
 * - sink batch: the sink has applied 2 batches in this process and applies more (a backlog).
 */
export async function killDuring(run: BackgroundRun, phase: KillPhase, summary: FaultSummary, deadlineMs = 90_000): Promise<boolean> {
  const what = `${phase} of ${run.logs.find((line) => line.pipeline)?.pipeline ?? 'the run'}`;
  try {
    if (phase === 'first token') {
      await run.waitForLog('the first token committed', (line) => line.msg === 'token committed', deadlineMs);
    } else if (phase === 'snapshot') {
      let over = false;
      await until(`snapshot rows counted (${what})`, async () => {
        if (logged(run, 'streaming')) return (over = true);
        if (hasExited(run)) throw new Error(`the run exited (${what})`);
        return (await metric(run, 'cdc_snapshot_rows_total').catch(() => 0)) > 0;
      }, deadlineMs, 20);
      if (over) return false;
    } else if (phase === 'streaming') {
      await run.waitForLog('the source streams', (line) => line.msg === 'streaming', deadlineMs);
      await until(`20 events streamed (${what})`, async () => (await metric(run, 'cdc_events_out_total', `stage="source:${SOURCE}"`)) >= 20, deadlineMs);
    } else {
      await until(`2 sink batches applied (${what})`, async () => (await metric(run, 'cdc_sink_apply_seconds_count', `sink="${SINK}"`)) >= 2, deadlineMs, 20);
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${tail(run)}`, { cause: error });
  }
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
  if (phase === 'snapshot' && logged(run, 'streaming')) return false;
  run.kill();
  await run.exited;
  summary.killed(phase);
  return true;
}

/**
 * SIGKILLs `run` once its source's newest durable token (what `cdc status` shows) records at least
 * `chunks` chunks of the incremental snapshot it reads, after a random 0-150 ms as killDuring does.
 * Call it once the request is accepted: returns false without killing when no incremental snapshot is
 * left (it finished first).
 */
export async function killDuringIncrementalSnapshot(run: BackgroundRun, config: FaultConfig, chunks: number, summary: FaultSummary, deadlineMs = 120_000): Promise<boolean> {
  let over = false;
  await until(`chunk ${chunks} of the incremental snapshot durable (${config.pipeline})`, async () => {
    if (hasExited(run)) throw new Error(`the run exited:\n${tail(run)}`);
    const [reading] = (await sourceStatusOf(config)).incremental;
    if (reading === undefined) return (over = true);
    return reading.chunks >= chunks;
  }, deadlineMs, 100);
  if (over) return false;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
  run.kill();
  await run.exited;
  summary.killed('incremental snapshot');
  return true;
}

/** The source's newest durable token, as a process taking the source over would start from. */
export async function latestSourceToken(config: FaultConfig): Promise<SourceToken | undefined> {
  const fold = new TokenFold();
  for (const record of await readTopic(topics.tokens(config.pipeline))) fold.add(record.key, record.value);
  return fold.latest().get(tokenKey(config.pipeline, SOURCE));
}

/** The source as `cdc status` shows it (its newest durable token), read in this process. */
export async function sourceStatusOf(config: FaultConfig): Promise<SourceStatus> {
  const { sources } = await status(config.config, silentLogger);
  return sources.find((source) => source.name === SOURCE)!;
}

/**
 * Runs the pipeline of `file` through `plan`: starts `cdc run`, kills it in each phase in turn, restarting
 * after every kill (a phase already over is skipped and the same process goes on). Returns the process
 * that runs after the last kill. `onStart` is told about each process (the first one included).
 */
export async function killThrough(file: string, plan: readonly KillPhase[], summary: FaultSummary, onStart: (run: BackgroundRun) => void = () => {}): Promise<BackgroundRun> {
  let current: BackgroundRun | undefined;
  let started = 0;
  for (const phase of plan) {
    if (current === undefined) {
      current = startRun(file);
      if (started++ > 0) summary.restarts++;
      onStart(current);
    }
    if (await killDuring(current, phase, summary)) current = undefined;
  }
  if (current === undefined) {
    current = startRun(file);
    summary.restarts++;
    onStart(current);
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------
// Convergence and `cdc verify`

/** Purges every binlog of a (private) MariaDB but the current one: the positions in them are gone, as a stopped pipeline's token is. */
export async function purgeBinaryLogs(admin: mysql.Connection): Promise<void> {
  // The stopped run's binlog dump thread may outlive it a moment, and the server purges no file a reader is on.
  await until('no binlog reader left on the server', async () => {
    const [threads] = (await admin.query('SHOW PROCESSLIST')) as unknown as [Array<{ Command: string }>];
    return !threads.some((thread) => thread.Command.startsWith('Binlog Dump'));
  }, 30_000, 100);
  await admin.query('FLUSH BINARY LOGS');
  const [[{ File: current }]] = (await admin.query('SHOW MASTER STATUS')) as unknown as [[{ File: string }]];
  await purgeBinaryLogsTo(admin, current);
}

/** PURGE BINARY LOGS TO `current` (a private MariaDB's): returns once every older file is gone. */
export async function purgeBinaryLogsTo(admin: mysql.Connection, current: string): Promise<void> {
  // MariaDB keeps a binlog until its binlog checkpoint is written (asynchronously after the rotation): purge until it goes.
  await until(`the binlogs before ${current} are purged`, async () => {
    await admin.query(`PURGE BINARY LOGS TO '${current}'`);
    const [logs] = (await admin.query('SHOW BINARY LOGS')) as unknown as [Array<{ Log_name: string }>];
    return logs.length === 1 && logs[0]!.Log_name === current;
  }, 30_000, 200);
}

/**
 * Resolves once `cdc verify`'s comparison (in this process) finds the sink equal to the source, then runs
 * `cdc verify --json` as a user would and returns its tables (exit 0 asserted by the caller via `code`).
 */
export async function untilVerified(config: FaultConfig, deadlineMs = 120_000): Promise<{ code: number | null; results: TableComparison[]; output: string }> {
  const giveUp = Date.now() + deadlineMs;
  for (;;) {
    const results = await verifyPipeline(config.config).catch((error: unknown) => error as Error);
    if (!(results instanceof Error) && isEqual(results)) break;
    if (Date.now() > giveUp) {
      throw new Error(`the sink never equalled the source within ${deadlineMs / 1000} s:\n${results instanceof Error ? results.message : formatComparisons(results)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return verifyCli(config);
}

/**
 * `cdc snapshot --json --wait finished` of `tables` (as the source names them) from the pipeline's source,
 * as a user asks for an incremental snapshot: its exit code, the notifications it printed, its result (the
 * last JSON line) and all it printed.
 */
export async function snapshotCli(
  config: FaultConfig,
  tables: readonly string[],
): Promise<{ code: number | null; notifications: NotificationRecord[]; result: SnapshotRequestResult | undefined; output: string }> {
  const requested = await cdc(['snapshot', '--json', '--wait', 'finished', '--config', config.file, '--source', SOURCE, ...tables.flatMap((table) => ['--table', table])]);
  let lines: unknown[] = [];
  try {
    lines = requested.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
  } catch {
    // Not JSON: the exit code and output say why.
  }
  return { code: requested.code, notifications: lines.slice(0, -1) as NotificationRecord[], result: lines.at(-1) as SnapshotRequestResult | undefined, output: requested.stdout + requested.stderr };
}

/** `cdc status --json`, as a user runs it; a failure fails with what it printed. */
export async function statusCli(config: FaultConfig): Promise<PipelineStatus> {
  const shown = await cdc(['status', '--json', '--config', config.file]);
  if (shown.code !== 0) throw new Error(`cdc status exited ${String(shown.code)}: ${shown.stderr}`);
  return JSON.parse(shown.stdout) as PipelineStatus;
}

export async function verifyCli(config: FaultConfig): Promise<{ code: number | null; results: TableComparison[]; output: string }> {
  const verified = await cdc(['verify', '--json', '--config', config.file]);
  let results: TableComparison[] = [];
  try {
    results = JSON.parse(verified.stdout) as TableComparison[];
  } catch {
    // Not JSON: the exit code and output say why.
  }
  return { code: verified.code, results, output: verified.stdout + verified.stderr };
}

// ---------------------------------------------------------------------------------------------------
// Topics

/** Runs `use` with a KafkaJS client (silent) and its connected admin, disconnected afterwards. */
async function withKafka<T>(brokers: string, use: (kafka: Kafka, admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'fault-client', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(kafka, admin);
  } finally {
    await admin.disconnect();
  }
}

/** The committed records of a topic, from its start to its end now; none when it does not exist. */
export async function readTopic(topic: string, brokers = env.KAFKA_BROKERS): Promise<ConsumedRecord[]> {
  return withKafka(brokers, async (kafka, admin) => {
    if (!(await admin.listTopics()).includes(topic)) return [];
    const records: ConsumedRecord[] = [];
    await withRetry(`read ${topic}`, async () => {
      records.length = 0;
      await readToEnd(kafka, admin, topic, (record) => records.push(record), 100);
    });
    return records;
  });
}

/** Per partition of `topic`, the offset its next record gets: where a consumer that starts now begins. */
export async function endOffsets(topic: string, brokers = env.KAFKA_BROKERS): Promise<Map<number, bigint>> {
  return withKafka(brokers, async (_kafka, admin) => new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, offset }) => [partition, BigInt(offset)])));
}

export async function deleteTopics(pipeline: string, brokers = env.KAFKA_BROKERS): Promise<void> {
  await withKafka(brokers, async (_kafka, admin) => {
    const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(`${pipeline}.`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  });
}

/** The source's change events, decoded through the registry; a record that does not decode fails. */
export async function changeEvents(pipeline: string, brokers?: string): Promise<ChangeEvent[]> {
  const records = await readTopic(topics.change(pipeline, SOURCE), brokers);
  return (await avroSerde(pipeline).decode(records)).map((event, i) => {
    if (event instanceof Error) throw new Error(`${records[i]!.topic}/${records[i]!.partition}@${records[i]!.offset} does not decode: ${event.message}`);
    return event;
  });
}

// ---------------------------------------------------------------------------------------------------
// A plain consumer of the change topic

/**
 * A change-topic record as a consumer with no code of ours reads it: decoded with
 * @kafkajs/confluent-schema-registry only.
 */
export interface PlainChange {
  /** `db.table` (`db.collection`), from the record's source block. */
  table: string;
  op: string;
  /** The decoded Kafka key as JSON; none on a `t`. */
  key: string | undefined;
  /** The after image as JSON; null on a `d` or `t`. */
  after: string | null;
}

/**
 * The records of the source's change topic (in order per partition), decoded through the registry only:
 * all of them, or those from the offsets `from` on (endOffsets: what a consumer that started then reads).
 */
export async function plainChanges(pipeline: string, from?: ReadonlyMap<number, bigint>): Promise<PlainChange[]> {
  const registry = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
  const changes: PlainChange[] = [];
  for (const record of await readTopic(topics.change(pipeline, SOURCE))) {
    if (from !== undefined && BigInt(record.offset) < from.get(record.partition)!) continue;
    const value = (await registry.decode(record.value!)) as { op: string; after: unknown; source: { db: string; table: string } };
    changes.push({
      table: `${value.source.db}.${value.source.table}`,
      op: value.op,
      key: value.op === 't' ? undefined : JSON.stringify(await registry.decode(record.key!)),
      after: value.after === null ? null : JSON.stringify(value.after),
    });
  }
  return changes;
}

/**
 * What a consumer that keeps the last event per key holds, per table (`db.table` → key → after image),
 * with Debezium's meaning of each op: c, r and u put the after image by key, d removes it, t empties the table.
 */
export function lastEventPerKey(changes: readonly PlainChange[]): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>();
  for (const { table, op, key, after } of changes) {
    let rows = tables.get(table);
    if (rows === undefined) tables.set(table, (rows = new Map()));
    if (op === 't') rows.clear();
    else if (op === 'd') rows.delete(key!);
    else rows.set(key!, after!);
  }
  return tables;
}

/** How many records of each op a table has in `changes`. */
export function opCounts(changes: readonly PlainChange[], table: string): Record<string, number> {
  const ops: Record<string, number> = {};
  for (const change of changes) if (change.table === table) ops[change.op] = (ops[change.op] ?? 0) + 1;
  return ops;
}

/** Asserts that a consumer's rows equal the source's: the first keys missing or different, and extra, are named. */
export function assertSameRows(consumed: ReadonlyMap<string, string> | undefined, expected: ReadonlyMap<string, string>, when: string): void {
  const rows = consumed ?? new Map<string, string>();
  const missing = [...expected].filter(([key, row]) => rows.get(key) !== row).map(([key]) => key);
  const extra = [...rows.keys()].filter((key) => !expected.has(key));
  assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10), rows: rows.size }, { missing: [], extra: [], rows: expected.size }, when);
}

export interface DeadLetter {
  stage: string;
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
}

export async function deadLetters(pipeline: string, brokers?: string): Promise<DeadLetter[]> {
  const header = (record: ConsumedRecord, name: string) => String(record.headers[name] ?? '');
  return (await readTopic(topics.deadLetter(pipeline), brokers)).map((record) => ({
    stage: header(record, 'cdc.dlq.stage'),
    reason: header(record, 'cdc.dlq.reason'),
    topic: header(record, 'cdc.dlq.topic'),
    partition: Number(header(record, 'cdc.dlq.partition')),
    offset: header(record, 'cdc.dlq.offset'),
    value: record.value,
  }));
}

/**
 * Checks that every change the writer made is in the change topic as a streamed event: events are taken
 * once per source position (a restart writes some twice), described like the writer's changes, and the
 * two multisets must be equal (nothing missing, nothing invented). Returns the events compared.
 */
export async function missingFromChangeTopic(pipeline: string, written: readonly string[], describe: (event: ChangeEvent) => string, brokers?: string): Promise<{ missing: string[]; extra: string[]; events: number }> {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  let events = 0;
  const byPosition = new Map<string, string>();
  for (const event of await changeEvents(pipeline, brokers)) {
    // The snapshot's events (its r rows and the t closing each table) are no change the writer made.
    if (event.source.snapshot) continue;
    const earlier = byPosition.get(event.source.position);
    if (earlier !== undefined && earlier !== describe(event)) throw new Error(`two changes at source position ${event.source.position}: ${earlier} and ${describe(event)}`);
    byPosition.set(event.source.position, describe(event));
    if (seen.has(event.source.position)) continue;
    seen.add(event.source.position);
    events++;
    const change = describe(event);
    counts.set(change, (counts.get(change) ?? 0) + 1);
  }
  const missing: string[] = [];
  for (const change of written) {
    const left = counts.get(change) ?? 0;
    if (left === 0) missing.push(change);
    else counts.set(change, left - 1);
  }
  const extra = [...counts].flatMap(([change, n]) => Array<string>(n).fill(change));
  return { missing, extra, events };
}

// ---------------------------------------------------------------------------------------------------
// The write load

/**
 * Until stopped, calls `round` (one source transaction, or a few single writes) and records the changes
 * it says it made, as strings the change-topic check compares (`c 12 7`, `d 3`); a short pause between
 * rounds. A failed round fails `stop()`.
 */
export class LoadWriter {
  readonly written: string[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(round: (n: number) => Promise<string[]>, pauseMs = 10) {
    this.done = (async () => {
      for (let n = 0; !this.stopped; n++) {
        this.written.push(...(await round(n)));
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
    this.done.catch(() => {});
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    await this.done;
    return this.written;
  }
}

/** A seeded choice from a live key set, for writers that update and delete existing keys. */
export class KeySet {
  private readonly keys: number[];
  private state: number;

  constructor(count: number, seed = 1) {
    this.keys = Array.from({ length: count }, (_, i) => i + 1);
    this.state = seed;
  }

  add(key: number): void {
    this.keys.push(key);
  }

  pick(): number {
    this.state = (Math.imul(this.state, 1_103_515_245) + 12_345) >>> 0;
    return this.keys[this.state % this.keys.length]!;
  }

  remove(key: number): void {
    const i = this.keys.indexOf(key);
    this.keys[i] = this.keys[this.keys.length - 1]!;
    this.keys.pop();
  }
}

/** MySQL events as the MySQL writers describe their changes: `c id v`, `u id v`, `d id`. */
export function describeMySqlChange(event: ChangeEvent): string {
  const id = Number(event.key.id);
  return event.op === 'd' ? `d ${id}` : `${event.op} ${id} ${Number(event.after!.v)}`;
}

/** MongoDB events as `c id`, `u id`, `d id` (update post-images are looked up later, so no value). */
export function describeMongoChange(event: ChangeEvent): string {
  return `${event.op} ${Number(BSON.EJSON.parse(event.key._id as string, { relaxed: true }))}`;
}

// ---------------------------------------------------------------------------------------------------
// A private Kafka broker

/** A Kafka broker of one test (test/support/private-server.ts), for the test that stops a broker. */
export class PrivateKafka extends PrivateServer {
  static start(name: string): Promise<PrivateKafka> {
    // The broker's port and the controller's, the next one.
    return startPrivateServer(
      name,
      (port, dir) => kafkaInstance({ name: `kafka-${name}`, port, dir }),
      (service, dir) => new PrivateKafka(service, dir),
      2,
    );
  }

  get brokers(): string {
    return this.service.endpoint;
  }
}

/**
 * A MySQL table's rows as `lastEventPerKey` holds them: keyed by `{"id":…}` (the tables of the fault suite
 * have an `id` key), each row as JSON in column order. For columns whose JSON is the same from mysql2 and
 * from Avro: integers, strings.
 */
export async function tableRows(connection: mysql.Connection, db: string, table: string): Promise<Map<string, string>> {
  const [rows] = (await connection.query(`SELECT * FROM ${quoteTable(db, table)} ORDER BY id`)) as unknown as [Array<Record<string, unknown> & { id: number }>];
  return new Map(rows.map((row) => [JSON.stringify({ id: row.id }), JSON.stringify(row)]));
}
