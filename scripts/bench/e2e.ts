/**
 * End-to-end streaming, MariaDB → CDC system → MariaDB, one procedure for ours (scripts/bench-streaming-e2e.ts)
 * and Debezium's (scripts/bench/debezium/scenarios.ts), which differ only in how the system is started,
 * paused and resumed:
 * - sustained: `changes` row changes written (scripts/bench/change-load.ts) while the system is paused, then
 *   rows/s from its resumption until the target holds the source's rows (count and sums, polled every 250 ms);
 * - latency: writes at a fixed `rate` for `seconds`, commit → visible in the target of marker rows (80 a
 *   second, scripts/bench/change-load.ts says which), until every marker is visible.
 */
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../connectors/mysql/connection.ts';
import type { StackEnv } from '../stack/env.ts';
import { createEventsTable, latencyOf, sameRows, watchLatency, Writer, writeAtFixedRate, writeBacklog, type Latency } from './change-load.ts';
import { until } from './pipeline.ts';

const SAME_ROWS_POLL_MS = 250;

export interface E2eLoad {
  changes: number;
  rate: number;
  seconds: number;
}

export interface E2eResult {
  /** Row changes of the backlog. */
  written: number;
  sustainedSeconds: number;
  /**
   * CPU time of this process over the sustained run, µs per row change: what ours costs, as its pipeline
   * runs in this process (the load is written before, while it is paused). Not Debezium's (another process).
   */
  sustainedCpuMicrosPerRow: number;
  latency: Latency;
}

/** The system under test, from `source` into `target` (both databases exist, with the events table). */
export interface E2eSystem {
  start(): Promise<void>;
  /** Stops reading the source, its position kept. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Throws when the system failed. */
  alive(): void | Promise<void>;
  stop(): Promise<void>;
}

/**
 * Creates `source` and `target` (the target's table pre-created, as Debezium's JDBC sink needs),
 * runs both measures through `system`, and drops both databases whatever happens.
 */
export async function runE2e(
  env: StackEnv,
  load: E2eLoad,
  dbs: { source: string; target: string },
  system: E2eSystem,
  /** Runs the sustained phase (from the resumption until the target holds the backlog): to profile it, say. */
  aroundSustained: (work: () => Promise<void>) => Promise<void> = (work) => work(),
): Promise<E2eResult> {
  const { source, target } = dbs;
  const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
  let writers: Writer[] = [];
  let started = false;
  try {
    await createEventsTable(admin, source);
    await createEventsTable(admin, target);
    writers = await Writer.openAll(env.MYSQL_URL, source);
    await system.start();
    started = true;
    // A first row through, so the system has a position to resume from.
    await writers[0]!.transaction(1);
    await until('the first row in the target', () => system.alive(), () => sameRows(admin, source, target), 50, 120_000);

    await system.pause();
    const written = await writeBacklog(writers, load.changes);
    const sustainedStart = performance.now();
    const cpuAtStart = process.cpuUsage();
    await aroundSustained(async () => {
      await system.resume();
      await until('the target to hold the backlog', () => system.alive(), () => sameRows(admin, source, target), SAME_ROWS_POLL_MS);
    });
    const sustainedSeconds = (performance.now() - sustainedStart) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);

    const latency = await measureLatency(env.MYSQL_URL, target, writers, load, () => system.alive());
    return { written, sustainedSeconds, sustainedCpuMicrosPerRow: (cpu.user + cpu.system) / written, latency };
  } finally {
    if (started) await system.stop();
    for (const writer of writers) await writer.close();
    await admin.query('DROP DATABASE IF EXISTS ??', [source]);
    await admin.query('DROP DATABASE IF EXISTS ??', [target]);
    await admin.end();
  }
}

/**
 * The latency run: writes at `load.rate` rows/s for `load.seconds` (or until `over()` holds) into `writers`'
 * events table, and measures commit → visible in `target`'s, until every marker is visible.
 */
export async function measureLatency(
  url: string,
  target: string,
  writers: Writer[],
  load: Pick<E2eLoad, 'rate' | 'seconds'>,
  alive: () => void | Promise<void>,
  over?: () => boolean,
): Promise<Latency> {
  const latency = watchLatency(url, target);
  let sorted: number[];
  let reached: number;
  try {
    reached = await writeAtFixedRate(writers, load.rate, load.seconds, (marker) => latency.add(marker), alive, over);
    await until('the last markers of the latency run in the target', alive, () => latency.pending() === 0, 50, 300_000);
  } finally {
    sorted = await latency.stop();
  }
  return latencyOf(sorted, reached);
}
