import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { createMySqlSink } from '../../../connectors/mysql/sink.ts';
import type { SinkRecord } from '../../../topology/sink.ts';
import { recordWorkload } from '../support/source-log.ts';
import { applyAll, hashPartition, partition } from '../support/schedules.ts';
import { scratchMariaDb, type Scratch } from '../support/targets.ts';

const WORKLOADS = 40;
const STATEMENTS = 30;
const SCHEDULES_PER_WORKLOAD = 4;
const PARTITIONS = 8;

/** mulberry32: a seeded generator, so a failure names the seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function workload(next: () => number): string[] {
  const pick = (n: number) => 1 + Math.floor(next() * n);
  const a = () => `'a${pick(5)}'`;
  const b = () => (next() < 0.15 ? 'NULL' : `'b${pick(5)}'`);
  const statements: string[] = [];
  for (let i = 0; i < STATEMENTS; i++) {
    const roll = next();
    if (roll < 0.35) statements.push(`INSERT INTO t VALUES (${pick(8)}, ${a()}, ${b()})`);
    else if (roll < 0.5) statements.push(`UPDATE t SET a = ${a()} WHERE id = ${pick(8)}`);
    else if (roll < 0.62) statements.push(`UPDATE t SET b = ${b()} WHERE id = ${pick(8)}`);
    else if (roll < 0.72) statements.push(`UPDATE t SET a = ${a()}, b = ${b()} WHERE id = ${pick(8)}`);
    else if (roll < 0.82) statements.push(`UPDATE t SET id = ${pick(8)} WHERE id = ${pick(8)}`);
    else statements.push(`DELETE FROM t WHERE id = ${pick(8)}`);
  }
  return statements;
}

/**
 * One random schedule: partitions take turns at random, each delivering a batch of 1-5 records;
 * now and then a partition goes back to an earlier offset (a replay) and delivers again from there.
 */
function randomSchedule(partitions: SinkRecord[][], next: () => number): SinkRecord[][] {
  const cursors = partitions.map(() => 0);
  let replays = 3;
  const batches: SinkRecord[][] = [];
  while (cursors.some((cursor, p) => cursor < partitions[p]!.length)) {
    const live = partitions.map((_, p) => p).filter((p) => cursors[p]! < partitions[p]!.length);
    const p = live[Math.floor(next() * live.length)]!;
    const size = 1 + Math.floor(next() * 5);
    batches.push(partitions[p]!.slice(cursors[p], cursors[p]! + size));
    cursors[p] = Math.min(partitions[p]!.length, cursors[p]! + size);
    if (replays > 0 && next() < 0.1) {
      replays--;
      cursors[p] = Math.floor(next() * cursors[p]!);
    }
  }
  return batches;
}

let source: Scratch & { connection: mysql.Connection };
let target: Scratch & { connection: mysql.Connection };

before(async () => {
  source = await scratchMariaDb('src');
  target = await scratchMariaDb('dst');
});

after(async () => {
  await target.drop();
  await source.drop();
});

test(`random workloads on a table with two unique keys end equal to the source through ${PARTITIONS} partitions`, async () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  const next = random(seed);
  let events = 0;
  let rows = 0;
  let schedules = 0;
  for (let w = 0; w < WORKLOADS; w++) {
    const statements = workload(next);
    const recorded = await recordWorkload(
      source.connection,
      source.name,
      'CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(8) NOT NULL, b VARCHAR(8) NULL, UNIQUE KEY uk_a (a), UNIQUE KEY uk_b (b))',
      statements,
      { ignoreErrors: true, keyChange: w % 2 === 0 ? 'delete+create' : 'update' },
    );
    const partitions = partition(recorded.events, PARTITIONS, (key) => hashPartition(key, PARTITIONS));
    events += recorded.events.length;
    rows += recorded.finalRows.length;
    for (let s = 0; s < SCHEDULES_PER_WORKLOAD; s++) {
      await target.connection.query('DROP TABLE IF EXISTS t, t__cdc_tombstones');
      // The sink remembers tables it made: a new sink for the new table.
      const sink = createMySqlSink({ name: 'mariadb-random', url: target.url, manageTables: true, connections: 1 });
      try {
        for (const batch of randomSchedule(partitions, next)) await applyAll(sink, batch);
      } finally {
        await sink.close();
      }
      const [targetRows] = await target.connection.query({ sql: 'SELECT id, a, b FROM t ORDER BY id', rowsAsArray: true });
      assert.deepEqual(targetRows, recorded.finalRows, `seed ${seed}, workload ${w}, schedule ${s}:\n${statements.join(';\n')}`);
      schedules++;
    }
  }
  console.log(`seed ${seed}: ${WORKLOADS} workloads, ${events} events, ${rows} source rows at the end, ${schedules} random schedules over ${PARTITIONS} partitions`);
});
