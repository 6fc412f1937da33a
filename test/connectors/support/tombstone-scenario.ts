import assert from 'node:assert/strict';
import type { TableSchema } from '../../../topology/change-event.ts';
import type { SinkConnector, SinkContext, SinkRecord } from '../../../topology/sink.ts';
import type { TombstoneSettings } from '../../../connectors/sink/tombstone-purge.ts';
import { record } from './records.ts';

/** A sink that purges tombstones, one pass at a given time (`SqlSink`, `MongoSink`). */
export type PurgingSink = SinkConnector & { purgeTombstones(now: number): Promise<void> };

/** How a test reads the sink's target: the ids of `queue`'s rows in order, and how many tombstones it has. */
export interface TombstoneProbe {
  ids(): Promise<number[]>;
  tombstones(): Promise<number>;
}

const HOUR = 3_600_000;
const PARTITIONS = 2;
const KEYS_PER_ROUND = 40;
const ROUNDS = 12;
/** Two rounds: the test's clock moves one hour per round. */
export const SCENARIO_TOMBSTONES: Partial<TombstoneSettings> = { retentionMs: 2 * HOUR, purgeIntervalMs: 24 * HOUR, batchSize: 15 };

export const queueSchema: TableSchema = {
  db: 'shop',
  table: 'queue',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'note', type: 'varchar', length: 20, nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

/** The ids a round of the queue workload inserts: never reused. */
export function roundIds(round: number, keys: number): number[] {
  return Array.from({ length: keys }, (_, i) => round * keys + i + 1);
}

/**
 * One round of a queue-like table: the previous round's keys deleted, then `keys` new ones inserted,
 * at positions that follow the previous round's (`keys` must be the same for every round).
 */
export function queueRound(round: number, keys: number): SinkRecord[] {
  let position = round === 0 ? 0 : round * 2 * keys - keys;
  return [
    ...(round > 0 ? roundIds(round - 1, keys).map((id) => record(queueSchema, 'd', { id, note: `round ${round - 1}` }, null, ++position)) : []),
    ...roundIds(round, keys).map((id) => record(queueSchema, 'c', null, { id, note: `round ${round}` }, ++position)),
  ];
}

/**
 * A queue-like table, the case where tombstones grow without end: each round deletes the previous
 * round's keys and inserts new ones (never reused), over 2 partitions (key id % 2), the test's clock
 * one hour later each round and a purge pass after it, retention 2 hours. Without purging the
 * tombstones would reach 11 rounds of deletes (440); with it, only the deletes of the two newest
 * rounds stay: at each round's purge, the floor observed two hours before is the end of the round two
 * before, and every delete of that round came before its inserts.
 *
 * Then two replays of the partitions' batches: from where the sink was at the window's start (two rounds
 * back), which converges at every step (no deleted key comes back, even while purge passes run on),
 * and from the first round, older than the window, which brings the first round's deleted keys back
 * until the replay reaches their deletes (docs/sinks.md: what a replay older than the window does).
 */
export async function purgedTombstonesStayBounded(start: (context: SinkContext) => Promise<PurgingSink>, probe: TombstoneProbe): Promise<void> {
  const purged = new Map<string, number>();
  const warnings: unknown[] = [];
  const sink = await start({
    topic: 'tombstones.repartition',
    partitions: PARTITIONS,
    purged: (table, count) => purged.set(table, (purged.get(table) ?? 0) + count),
    warn: (_message, error) => warnings.push(error),
  });
  const rounds: SinkRecord[][][] = [];
  const offsets = Array.from({ length: PARTITIONS }, () => 0);
  let most = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const batches: SinkRecord[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const made of queueRound(round, KEYS_PER_ROUND)) {
      const partition = Number(made.event.key.id) % PARTITIONS;
      batches[partition]!.push({ ...made, partition, offset: String(offsets[partition]!++) });
    }
    rounds.push(batches);
    for (const batch of batches) assert.deepEqual(await sink.apply(batch), { rejected: [], skipped: [] });
    await sink.purgeTombstones(round * HOUR);
    const tombstones = await probe.tombstones();
    most = Math.max(most, tombstones);
    assert.deepEqual(await probe.ids(), roundIds(round, KEYS_PER_ROUND), `the target equals the source after round ${round}`);
    if (round >= 3) assert.equal(tombstones, 2 * KEYS_PER_ROUND, `round ${round}: the deletes of the two newest rounds`);
  }
  assert.equal(most, 2 * KEYS_PER_ROUND, 'the bound: the deletes of the two rounds inside the window');
  assert.equal(purged.get('queue'), (ROUNDS - 3) * KEYS_PER_ROUND);
  const expected = roundIds(ROUNDS - 1, KEYS_PER_ROUND);

  let now = ROUNDS * HOUR;
  for (const batches of rounds.slice(ROUNDS - 2)) {
    for (const batch of batches) {
      await sink.apply(batch);
      assert.deepEqual(await probe.ids(), expected, 'a replay from inside the window: no deleted key comes back');
    }
    await sink.purgeTombstones((now += HOUR));
  }

  for (const [round, batches] of rounds.entries()) {
    for (const batch of batches) await sink.apply(batch);
    await sink.purgeTombstones((now += HOUR));
    if (round === 0) assert.deepEqual(await probe.ids(), [...roundIds(0, KEYS_PER_ROUND), ...expected], 'a replay older than the window: deleted keys come back');
  }
  assert.deepEqual(await probe.ids(), expected, '... until the replay reaches their deletes');
  assert.deepEqual(warnings, []);
}
