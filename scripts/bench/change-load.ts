/**
 * The end-to-end streaming load, one definition for ours and Debezium's runs: a 4-column `events` table
 * written by four connections with inserts, updates and deletes in 1-row and 100-row transactions, either
 * as a backlog (`writeBacklog`) or at a fixed rate (`writeAtFixedRate`), and the target polled for
 * commit → visible latency (`watchLatency`) or compared with the source (`sameRows`).
 *
 * Each row carries the writer's clock (`written_us`, taken as its statement is built, a millisecond or so
 * before COMMIT). Latency is measured on marker rows: in each 100 ms tick of the fixed-rate run, each
 * writer's first transaction (an update) and last (inserts) mark the row they changed last, and the target
 * is polled every 10 ms for the pending markers by primary key, until their row carries the marked clock.
 * Every marker is seen, however out of order the target applies (8 partitions apply independently), and
 * its latency is commit → visible, over-counted by at most the poll interval and the poll's own time.
 */
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../connectors/mysql/connection.ts';
import { sleep } from '../stack/process.ts';
// Seeded, so the rows each writer updates are the same in every run: ours and Debezium get the same change load.
import { seededRandom } from '../../test/connectors/support/random.ts';

export const EVENTS_TABLE = 'events';
export const WRITERS = 4;
const TICK_MS = 100;
const LATENCY_POLL_MS = 10;

/** The table, in the source and (the same definition) in the target. */
export async function createEventsTable(admin: mysql.Connection, db: string): Promise<void> {
  await admin.query('CREATE DATABASE IF NOT EXISTS ??', [db]);
  await admin.query(
    `CREATE TABLE \`${db}\`.${EVENTS_TABLE} (id BIGINT PRIMARY KEY, v INT, pad VARCHAR(40), written_us BIGINT)`,
  );
}

/** Microseconds since the epoch, finer than Date.now(). */
export const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * One connection writing its own ids (`first`, `first + WRITERS`, ...), so no statement waits on another
 * connection's rows. Its oldest rows are deleted first and updates pick among the rest, so every
 * statement changes a row (and makes an event).
 */
export class Writer {
  private inserted = 0;
  private deleted = 0;
  private readonly random: () => number;
  /** The row the last transaction changed last, and the clock it wrote there. */
  lastChange: Marker = { id: 0, writtenUs: 0 };

  private constructor(
    private readonly connection: mysql.Connection,
    private readonly db: string,
    private readonly first: number,
  ) {
    this.random = seededRandom(first);
  }

  /** `WRITERS` writers on `db`. */
  static async openAll(url: string, db: string): Promise<Writer[]> {
    const writers: Writer[] = [];
    for (let first = 1; first <= WRITERS; first++) writers.push(new Writer(await mysql.createConnection(connectionOptions(url)), db, first));
    return writers;
  }

  /** One transaction of `inserts` new rows, or of one update of an existing row; the rows it changed. */
  async transaction(inserts: number): Promise<number> {
    await this.connection.beginTransaction();
    if (inserts > 0) {
      const rows = Array.from({ length: inserts }, () => [this.id(this.inserted++), 0, 'x'.repeat(30), nowUs()] as const);
      await this.connection.query(`INSERT INTO \`${this.db}\`.${EVENTS_TABLE} (id, v, pad, written_us) VALUES ?`, [rows]);
      const [id, , , writtenUs] = rows.at(-1)!;
      this.lastChange = { id, writtenUs };
    } else {
      const id = this.id(this.deleted + Math.floor(this.random() * (this.inserted - this.deleted)));
      const writtenUs = nowUs();
      await this.connection.query(`UPDATE \`${this.db}\`.${EVENTS_TABLE} SET v = v + 1, written_us = ? WHERE id = ?`, [writtenUs, id]);
      this.lastChange = { id, writtenUs };
    }
    await this.connection.commit();
    return Math.max(inserts, 1);
  }

  async deleteOldest(): Promise<number> {
    await this.connection.query(`DELETE FROM \`${this.db}\`.${EVENTS_TABLE} WHERE id = ?`, [this.id(this.deleted++)]);
    return 1;
  }

  close(): Promise<void> {
    return this.connection.end();
  }

  private id(nth: number): number {
    return this.first + nth * WRITERS;
  }
}

/** About `changes` row changes: 100-row inserts alternating with 1-row updates, every 20th statement a delete. */
export async function writeBacklog(writers: Writer[], changes: number): Promise<number> {
  const perWriter = Math.ceil(changes / writers.length);
  const counts = await Promise.all(
    writers.map(async (writer) => {
      let written = 0;
      for (let round = 0; written < perWriter; round++) {
        written += round % 20 === 19 ? await writer.deleteOldest() : await writer.transaction(round % 2 === 0 ? 100 : 0);
      }
      return written;
    }),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * Writes at `rate` rows/s for `seconds`, or until `over()` holds at the end of a tick: every 100 ms five
 * one-row updates and transactions of up to 100 inserts for the rest, spread over the writers; each
 * writer's first and last transaction of a tick are handed to `mark` once committed. `alive` throws when
 * the system under test failed. Returns the rate reached.
 */
export async function writeAtFixedRate(
  writers: Writer[],
  rate: number,
  seconds: number,
  mark: (marker: Marker) => void,
  alive: () => void | Promise<void>,
  over: () => boolean = () => false,
): Promise<number> {
  const perTick = Math.round((rate * TICK_MS) / 1000);
  const tickWork: number[] = [0, 0, 0, 0, 0];
  for (let rows = 5; rows < perTick; rows += 100) tickWork.push(Math.min(100, perTick - rows));
  const started = performance.now();
  let rows = 0;
  for (let tick = 0; tick < (seconds * 1000) / TICK_MS && !over(); tick++) {
    const tickStart = performance.now();
    const done = await Promise.all(
      writers.map(async (writer, k) => {
        let written = 0;
        for (let next = k; next < tickWork.length; next += writers.length) {
          written += await writer.transaction(tickWork[next]!);
          if (next === k || next + writers.length >= tickWork.length) mark(writer.lastChange);
        }
        return written;
      }),
    );
    rows += done.reduce((sum, count) => sum + count, 0);
    await alive();
    const spent = performance.now() - tickStart;
    if (spent < TICK_MS) await sleep(TICK_MS - spent);
  }
  return rows / ((performance.now() - started) / 1000);
}

/** A row a transaction changed, and the clock it wrote there: visible in the target once the target's row carries it. */
export interface Marker {
  id: number;
  writtenUs: number;
}

export interface LatencyWatch {
  /** A committed marker to watch for. */
  add(marker: Marker): void;
  /** Markers not yet visible in the target. */
  pending(): number;
  /** Stops polling; the markers' latencies in ms, sorted. */
  stop(): Promise<number[]>;
}

/** Polls `db`.events every 10 ms for the pending markers, until stopped. */
export function watchLatency(url: string, db: string): LatencyWatch {
  const latenciesMs: number[] = [];
  let pending: Marker[] = [];
  let polling = true;
  const done = (async () => {
    const reader = await mysql.createConnection(connectionOptions(url));
    try {
      while (polling) {
        if (pending.length > 0) {
          const asked = pending;
          const ids = [...new Set(asked.map(({ id }) => id))];
          const [rows] = (await reader.query(`SELECT id, written_us FROM \`${db}\`.${EVENTS_TABLE} WHERE id IN (?)`, [ids])) as unknown as [Array<{ id: number; written_us: number }>];
          const visibleAt = nowUs();
          const current = new Map(rows.map((row) => [Number(row.id), Number(row.written_us)]));
          const visible = new Set(asked.filter((marker) => (current.get(marker.id) ?? -1) >= marker.writtenUs));
          for (const marker of visible) latenciesMs.push((visibleAt - marker.writtenUs) / 1000);
          // Markers added while the query ran stay pending.
          pending = pending.filter((marker) => !visible.has(marker));
        }
        await sleep(LATENCY_POLL_MS);
      }
    } finally {
      await reader.end();
    }
  })();
  return {
    add: (marker) => void pending.push(marker),
    pending: () => pending.length,
    async stop() {
      polling = false;
      await done;
      return latenciesMs.sort((a, b) => a - b);
    },
  };
}

/**
 * True when the target holds the source's rows: same count, same sum of `v` (updates) and of `written_us`
 * (each write's clock). One query per side, the same check for ours and Debezium.
 */
export async function sameRows(admin: mysql.Connection, source: string, target: string): Promise<boolean> {
  const digest = async (db: string) => {
    const [[row]] = (await admin.query(
      `SELECT COUNT(*) AS n, COALESCE(SUM(v), 0) AS v, COALESCE(SUM(written_us), 0) AS w FROM \`${db}\`.${EVENTS_TABLE}`,
    )) as unknown as [[Record<string, unknown>]];
    return `${row.n}/${row.v}/${row.w}`;
  };
  return (await digest(source)) === (await digest(target));
}

export interface Latency {
  /** The rate the writers reached (asked: `rate`). */
  ratePerSecond: number;
  /** Markers measured. */
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentiles of sorted latencies (ms). */
export function latencyOf(sortedMs: number[], ratePerSecond: number): Latency {
  if (sortedMs.length === 0) throw new Error('the latency run measured no marker');
  const at = (p: number) => Math.round(sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))]!);
  return { ratePerSecond: Math.round(ratePerSecond), samples: sortedMs.length, p50: at(50), p95: at(95), p99: at(99), max: Math.round(sortedMs.at(-1)!) };
}
