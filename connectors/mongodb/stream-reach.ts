/**
 * How far the change streams of one stream() run have emitted, for the positions it commits and for
 * StreamCursor.boundary (topology/source.ts). Each stream (one per collection) reads on its own, so one may
 * have emitted changes of a later cluster time than another has read to; the position up to which every
 * change has been emitted is the lowest of the streams' reaches.
 *
 * A stream reaches a position by emitting a change there (the last of its transaction), by a change it
 * skips (a collection left out), and by an empty batch: up to its post-batch resume token's cluster time,
 * exclusive (a high-water-mark token sorts before every event at its time: a sharded cluster's merged
 * stream may still hold one), or, on a server without such tokens, through a cluster time read before
 * that batch's getMore ({@link ClusterClock}).
 */
import type { ClusterTime } from './position.ts';

export class StreamReach {
  private readonly reached = new Map<string, string>();
  /** Streams holding a change not emitted yet, or a transaction not emitted whole. */
  private readonly holding = new Set<string>();

  /** The stream `key` has emitted every change of its own up to `position`; a reach never moves back. */
  reach(key: string, position: string): void {
    const current = this.reached.get(key);
    if (current === undefined || position > current) this.reached.set(key, position);
  }

  /** The stream `key` took a change it has not emitted, with the rest of its transaction, yet. */
  hold(key: string): void {
    this.holding.add(key);
  }

  /** The stream `key` holds nothing back any more. */
  release(key: string): void {
    this.holding.delete(key);
  }

  /** The lowest reach of the streams; undefined before any stream started. */
  floor(): string | undefined {
    let lowest: string | undefined;
    for (const position of this.reached.values()) if (lowest === undefined || position < lowest) lowest = position;
    return lowest;
  }

  /** The floor while no stream holds a change back (between transactions); else undefined. */
  boundary(): string | undefined {
    return this.holding.size > 0 ? undefined : this.floor();
  }
}

/**
 * The server's cluster time read on demand, for servers whose empty batches carry no post-batch resume
 * token (mongo-java-server): there an empty batch tells how far a stream has read only through a cluster
 * time read before its getMore, since that getMore sees every write at or before it. One read at a time.
 */
export class ClusterClock {
  private latest: ClusterTime | undefined;
  private reading = false;

  constructor(private readonly read: () => Promise<ClusterTime>) {}

  /** The newest cluster time read so far: a getMore sent after this call sees every write at or before it. */
  get known(): ClusterTime | undefined {
    return this.latest;
  }

  /** Reads a newer cluster time, unless a read is under way. */
  want(): void {
    if (this.reading) return;
    this.reading = true;
    this.read()
      .then((time) => {
        this.latest = time;
      })
      // A failed read leaves the reaches where they are; the streams' own getMores report a lost server.
      .catch(() => undefined)
      .finally(() => {
        this.reading = false;
      });
  }
}
