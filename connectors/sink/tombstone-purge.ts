import { comparePositions } from '../../topology/change-event.ts';
import type { SinkContext, SinkRecord } from '../../topology/sink.ts';

/**
 * When the idempotent sinks purge tombstones (docs/sinks.md, "Purging tombstones"): a tombstone goes once
 * its position is below the purge floor of its source, the oldest position that every partition of the
 * repartition topic had applied, over the whole retention window.
 */
export interface TombstoneSettings {
  /** How long a partition floor must have held before tombstones below it go; null: never purge. */
  retentionMs: number | null;
  /** Time between two purge passes. */
  purgeIntervalMs: number;
  /** Tombstones deleted per statement (SQL: one short transaction each). */
  batchSize: number;
}

export const DEFAULT_TOMBSTONES: TombstoneSettings = { retentionMs: 24 * 3_600_000, purgeIntervalMs: 60_000, batchSize: 1_000 };

/** The name of the table (collection) where a sink group keeps, per source and partition, the position of the last record it applied. */
export const PROGRESS_TABLE = '__cdc_sink_progress';

/** One row of the progress table: the last record a sink group applied from one partition, for one source. */
export interface PartitionProgress {
  source: string;
  partition: number;
  position: string;
}

/** Per source, the position of the batch's last record of that source (a batch is in offset order). */
export function lastPositions(batch: readonly SinkRecord[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const { event } of batch) last.set(event.source.name, event.source.position);
  return last;
}

/**
 * Per source, the oldest of its partitions' last applied positions: every partition has applied its
 * records up to there, and (in source order within a partition) what it still delivers is newer. A
 * source with a partition that has no row yet has no floor: that partition may still deliver anything.
 */
export function sourceFloors(progress: readonly PartitionProgress[], partitions: number): Map<string, string> {
  const bySource = new Map<string, Map<number, string>>();
  for (const { source, partition, position } of progress) {
    if (partition < 0 || partition >= partitions) continue;
    let rows = bySource.get(source);
    if (!rows) bySource.set(source, (rows = new Map()));
    rows.set(partition, position);
  }
  const floors = new Map<string, string>();
  for (const [source, rows] of bySource) {
    if (rows.size < partitions) continue;
    floors.set(source, [...rows.values()].reduce((min, position) => (comparePositions(position, min) < 0 ? position : min)));
  }
  return floors;
}

/**
 * The floors a sink process observed over time, per source. The purge floor at `now` is the lowest floor
 * observed since `now - retention` (counting the last observation before that, which held until the next),
 * and exists only once this process has watched the source for the whole window without a gap: a floor
 * that went down meanwhile (a replay, a re-sent stretch) holds purging back at once, and a restarted
 * process waits a full window before it purges.
 */
export class PurgeFloors {
  private readonly history = new Map<string, Array<{ at: number; floor: string }>>();

  constructor(private readonly retentionMs: number) {}

  /** One observation at `now` of every source's floor; a source missing from `floors` starts its window again. */
  observe(now: number, floors: ReadonlyMap<string, string>): void {
    for (const source of this.history.keys()) if (!floors.has(source)) this.history.delete(source);
    for (const [source, floor] of floors) {
      const samples = this.history.get(source) ?? [];
      samples.push({ at: now, floor });
      // Keep the last observation at or before the window's start: it held until the next one.
      const start = now - this.retentionMs;
      while (samples.length > 1 && samples[1]!.at <= start) samples.shift();
      this.history.set(source, samples);
    }
  }

  /** Tombstones of `source` below this position may go; undefined while nothing may. */
  floor(source: string, now: number): string | undefined {
    const samples = this.history.get(source);
    if (!samples || samples[0]!.at > now - this.retentionMs) return undefined;
    return samples.map(({ floor }) => floor).reduce((min, floor) => (comparePositions(floor, min) < 0 ? floor : min));
  }

  sources(): string[] {
    return [...this.history.keys()];
  }
}

/** What a sink does for the purge: read its group's progress rows, delete its tombstones of a source below a floor. */
export interface PurgeTarget {
  readProgress(): Promise<PartitionProgress[]>;
  /** Deletes, in batches of `batchSize`, the tombstones of every target table of `source` below `floor`; reports each table's count. */
  purgeBelow(source: string, floor: string, batchSize: number, purged: (table: string, count: number) => void): Promise<void>;
}

/**
 * Runs the purge of one sink in the background: every `purgeIntervalMs` one pass (observe the floors,
 * purge below them), never two at once. A failed pass (the target down) is reported and the next one
 * tries again; apply never waits for it.
 */
export class TombstonePurger {
  private readonly floors: PurgeFloors;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly settings: TombstoneSettings & { retentionMs: number },
    private readonly context: SinkContext,
    private readonly target: PurgeTarget,
  ) {
    this.floors = new PurgeFloors(settings.retentionMs);
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass at `now`: observe every source's floor, then purge each source below its purge floor. */
  async pass(now: number): Promise<void> {
    this.floors.observe(now, sourceFloors(await this.target.readProgress(), this.context.partitions));
    for (const source of this.floors.sources()) {
      const floor = this.floors.floor(source, now);
      if (floor !== undefined) await this.target.purgeBelow(source, floor, this.settings.batchSize, (table, count) => this.context.purged(table, count));
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass(Date.now())
        .catch((error: unknown) => this.context.warn('tombstone purge failed; the next pass tries again', error))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.settings.purgeIntervalMs);
    this.timer.unref();
  }
}

/** The purge settings a sink runs with, or undefined when it does not purge (never, or no context: no topic to track). */
export function purgeSettings(options: Partial<TombstoneSettings> | undefined, context: SinkContext | undefined): (TombstoneSettings & { retentionMs: number }) | undefined {
  const settings = { ...DEFAULT_TOMBSTONES, ...options };
  if (settings.retentionMs === null || context === undefined) return undefined;
  return { ...settings, retentionMs: settings.retentionMs };
}
