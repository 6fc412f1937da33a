import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { SinkConnector, SinkRecord } from '../../../topology/sink.ts';

/** A sink under test, with a way to empty its target and to read the target's rows. */
export interface SinkUnderTest {
  sink: SinkConnector;
  reset(): Promise<void>;
  /** Rows of the target, ordered by primary key, in the source table's column order. */
  read(): Promise<unknown[][]>;
}

/** The repartition key of an event: table + primary key (after key for a key-changing update). */
export function partitionKey(event: ChangeEvent): string {
  return `${event.source.db}.${event.source.table}:${JSON.stringify(Object.values(event.key), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`;
}

/** Splits events into partitions by `assign(key)`, each partition's records in source order with offsets. */
export function partition(events: readonly ChangeEvent[], count: number, assign: (key: string) => number): SinkRecord[][] {
  const partitions: SinkRecord[][] = Array.from({ length: count }, () => []);
  for (const event of events) {
    const p = assign(partitionKey(event));
    partitions[p]!.push({ event, topic: 'changes', partition: p, offset: String(partitions[p]!.length) });
  }
  return partitions.filter((records) => records.length > 0);
}

/** Every way to put distinct keys into partitions (set partitions: which keys share a partition). */
export function* keyAssignments(keys: readonly string[]): Generator<Map<string, number>> {
  function* place(i: number, assignment: Map<string, number>, used: number): Generator<Map<string, number>> {
    if (i === keys.length) {
      yield new Map(assignment);
      return;
    }
    for (let p = 0; p <= used; p++) {
      assignment.set(keys[i]!, p);
      yield* place(i + 1, assignment, Math.max(used, p + 1));
    }
  }
  yield* place(0, new Map(), 0);
}

/** Every split of a sequence into consecutive non-empty batches. */
export function* batchings<T>(items: readonly T[]): Generator<T[][]> {
  if (items.length === 0) {
    yield [];
    return;
  }
  for (let size = 1; size <= items.length; size++) {
    for (const rest of batchings(items.slice(size))) yield [items.slice(0, size), ...rest];
  }
}

/** Every interleaving of sequences that keeps each sequence's own order. */
export function* merges<T>(sequences: readonly (readonly T[])[]): Generator<T[]> {
  const live = sequences.filter((sequence) => sequence.length > 0);
  if (live.length === 0) {
    yield [];
    return;
  }
  for (let i = 0; i < live.length; i++) {
    const [head, ...tail] = live[i]!;
    const rest = live.map((sequence, j) => (j === i ? tail : sequence));
    for (const merged of merges(rest)) yield [head as T, ...merged];
  }
}

/** Every combination of one choice per position: the cartesian product. */
export function* product<T>(choices: readonly (readonly T[])[]): Generator<T[]> {
  if (choices.length === 0) {
    yield [];
    return;
  }
  for (const first of choices[0]!) for (const rest of product(choices.slice(1))) yield [first, ...rest];
}

/** Applies one batch, failing the test if anything is rejected (scenario events are all valid). */
export async function applyAll(sink: SinkConnector, batch: readonly SinkRecord[]): Promise<void> {
  const { rejected } = await sink.apply(batch);
  assert.deepEqual(rejected.map((r) => r.reason), []);
}

/**
 * Runs a scenario through a sink in every schedule the repartition allows, and returns how many
 * schedules ran:
 * - every assignment of the rows' keys to partitions;
 * - every batching of every partition and every interleaving of the partitions' batches; after
 *   each, every suffix of every partition is replayed (one batch) and the target must still equal
 *   `expect`;
 * - every interleaving, event by event, of the partitions where one partition is delivered twice
 *   (a replay from earliest while the others are still running).
 */
export async function runAllSchedules(target: SinkUnderTest, events: readonly ChangeEvent[], expect: unknown[][], label: string): Promise<number> {
  const keys = [...new Set(events.map(partitionKey))];
  let schedules = 0;
  const check = async (what: string) => assert.deepEqual(await target.read(), expect, `${label}: ${what}`);
  for (const assignment of keyAssignments(keys)) {
    const partitions = partition(events, keys.length, (key) => assignment.get(key)!);
    const describe = (batches: SinkRecord[][]) => batches.map((b) => b.map((r) => `p${r.partition}@${r.offset}`).join('+')).join(' | ');
    for (const splits of product(partitions.map((records) => [...batchings(records)]))) {
      for (const order of merges(splits)) {
        await target.reset();
        for (const batch of order) await applyAll(target.sink, batch);
        await check(describe(order));
        for (const records of partitions) {
          for (let from = 0; from < records.length; from++) {
            await applyAll(target.sink, records.slice(from));
            await check(`${describe(order)}, then replay of p${records[0]!.partition} from ${from}`);
          }
        }
        schedules++;
      }
    }
    for (let replayed = 0; replayed < partitions.length; replayed++) {
      const delivered = partitions.map((records, p) => (p === replayed ? [...records, ...records] : records));
      for (const order of merges(delivered)) {
        await target.reset();
        for (const record of order) await applyAll(target.sink, [record]);
        await check(`${describe(order.map((r) => [r]))} (p${replayed} delivered twice)`);
        schedules++;
      }
    }
  }
  return schedules;
}

/** A stable hash of a repartition key into `count` partitions (as murmur2 would, any fixed hash will do). */
export function hashPartition(key: string, count: number): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) % count;
}
