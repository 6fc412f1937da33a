import type { SinkRecord } from '../../../topology/sink.ts';

/** The table of the random workloads: a primary key and two unique keys, one of them nullable. */
export const RANDOM_WORKLOAD_DDL = 'CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(8) NOT NULL, b VARCHAR(8) NULL, UNIQUE KEY uk_a (a), UNIQUE KEY uk_b (b))';

/**
 * `count` random statements on RANDOM_WORKLOAD_DDL's table over few keys and values, so that rows
 * collide on unique values, change keys and come back; some fail on a duplicate (the recorder ignores them).
 */
export function randomStatements(next: () => number, count: number): string[] {
  const pick = (n: number) => 1 + Math.floor(next() * n);
  const a = () => `'a${pick(5)}'`;
  const b = () => (next() < 0.15 ? 'NULL' : `'b${pick(5)}'`);
  const statements: string[] = [];
  for (let i = 0; i < count; i++) {
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
export function randomSchedule(partitions: SinkRecord[][], next: () => number): SinkRecord[][] {
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
