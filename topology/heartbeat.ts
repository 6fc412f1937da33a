/**
 * Paces heartbeats: token commits at log positions that carry no captured change (a transaction of a table
 * the source does not capture, a binlog rotation, an idle change stream's resume token). They keep an idle
 * source's token up with the server's log, so a purge of old binlog files (or the end of the oplog's
 * window) never strands a position that was only idle; but one per foreign transaction would flood the
 * token topic, so at most one per interval, and none while the token moves on its own.
 */
export class HeartbeatPacer {
  /** Undefined until the token first moves: the first position without captured changes is committed at once. */
  private lastMoved: number | undefined;

  /** `intervalMs` 0: no heartbeats. `now`: the clock (a test's own). */
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The token moved with a captured change: the next heartbeat is a whole interval away. */
  moved(): void {
    this.lastMoved = this.now();
  }

  /** Whether a position without captured changes is committed now; true counts as the token's move. */
  beat(): boolean {
    if (this.intervalMs <= 0) return false;
    const now = this.now();
    if (this.lastMoved !== undefined && now - this.lastMoved < this.intervalMs) return false;
    this.lastMoved = now;
    return true;
  }
}

/** The default interval: one small token record per 10 s costs nothing, and no binlog retention is that short. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;
