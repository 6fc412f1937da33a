import type { Transport } from './transport.ts';

export interface PartitionLag {
  partition: number;
  /** The group's next offset; null when it never committed in this partition. */
  committed: string | null;
  end: string;
  /** Records not yet applied: end - committed (from the log start when never committed). */
  lag: number;
}

/**
 * A consumer group's lag on one topic, per partition, from the broker's committed offsets and end
 * offsets. Transaction markers count as records here, so a transactional topic shows a lag of one or
 * two where nothing is left to apply: the same figure Kafka's own tools show.
 */
export async function consumerLag(transport: Transport, groupId: string, topic: string): Promise<PartitionLag[]> {
  const [ends, starts, committed] = await Promise.all([transport.latestOffsets(topic), transport.earliestOffsets(topic), transport.committedOffsets(groupId, topic)]);
  const committedOf = new Map(committed.map(({ partition, offset }) => [partition, offset]));
  const startOf = new Map(starts.map(({ partition, offset }) => [partition, offset]));
  return ends.map(({ partition, offset: end }) => {
    const at = committedOf.get(partition) ?? null;
    const from = BigInt(at ?? startOf.get(partition) ?? '0');
    const lag = BigInt(end) - from;
    return { partition, committed: at, end, lag: Number(lag > 0n ? lag : 0n) };
  });
}

export interface WatchedGroup {
  group: string;
  topic: string;
}

/**
 * Measures each group's lag every `intervalMs` into `report` (the consumer-lag gauge). A failed
 * measurement is skipped: lag is for watching, and the broker being away shows elsewhere.
 */
export function watchLag(transport: Transport, watched: readonly WatchedGroup[], intervalMs: number, report: (group: string, topic: string, lag: PartitionLag) => void): () => void {
  let stopped = false;
  const measure = async () => {
    for (const { group, topic } of watched) {
      if (stopped) return;
      const lags = await consumerLag(transport, group, topic).catch(() => []);
      for (const lag of lags) report(group, topic, lag);
    }
  };
  const timer = setInterval(() => void measure(), intervalMs);
  timer.unref();
  void measure();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
