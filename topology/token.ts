/**
 * Tokens: what a source stores in the compacted token topic, keyed by pipeline + source.
 * The latest token for a source decides everything on restart (docs/design.md, the token protocol).
 */

/** Progress of one table's (collection's) snapshot. `lastKey` is the key of the last row of the last finished chunk. */
export interface TableSnapshotProgress {
  done: boolean;
  rows: number;
  /** Canonical JSON of the key values of the last finished chunk's last row; absent before the first chunk. */
  lastKey?: string;
  chunks: number;
  /**
   * A spread snapshot's plan (topology/spread-snapshot.ts): its id and how many key ranges of the table it
   * published to the work topic. Present once published: a new owner of the source waits for those
   * ranges rather than splitting the table again. `rows` and `chunks` then count the ranges done.
   */
  spread?: { id: string; ranges: number };
}

/**
 * One table's incremental snapshot (topology/incremental-snapshot.ts), read in chunks while the source
 * streams. The token carries every one not finished, oldest first; the first is the one being read.
 */
export interface IncrementalSnapshotProgress {
  /** The request it belongs to: a signal's id, or `added:<table>` for a table newly matched by `include`. */
  id: string;
  /** `db.table` (MongoDB: the collection). */
  table: string;
  /** `requested`: by `cdc snapshot` (a signal); `added`: the table is newly captured. */
  reason: 'requested' | 'added';
  /** ms since epoch. */
  requestedAt: number;
  /** ms since epoch when its first chunk was read. */
  startedAt?: number;
  /** Position of the first chunk's read: the table's end marker removes the rows older than it. */
  from?: string;
  /** Encoded key of the last row emitted; the next chunk starts after it. */
  lastKey?: string;
  rows: number;
  chunks: number;
  /** The server's estimate of the table's rows when it was accepted (for progress; statistics, not a count). */
  estimate?: number;
}

export type TokenPhase = 'snapshot' | 'streaming';

export interface SourceToken {
  pipeline: string;
  source: string;
  phase: TokenPhase;
  /**
   * Where streaming resumes: a comparable position string (see ChangeEvent.source.position) plus the
   * connector's own resume data (binlog file/pos and GTID set, or MongoDB resume token / cluster time).
   */
  position: string;
  resume: Record<string, unknown>;
  /** Per-table snapshot progress while phase is 'snapshot' (and kept after, for status). */
  snapshot?: Record<string, TableSnapshotProgress>;
  /** Incremental snapshots not finished yet, oldest first (absent: none). */
  incremental?: IncrementalSnapshotProgress[];
  /**
   * The tables (collections) the source captures, each with when it was first captured (ms since epoch).
   * A table matched by `include` but missing here is snapshotted incrementally on start. Absent in tokens
   * written before this field existed: then every table matched on start counts as captured.
   */
  captured?: Record<string, number>;
  /** Offset of the newest signal on the control topic this source has taken, so a redelivered one is not taken twice. */
  signalOffset?: string;
  /** ms since epoch when this token was written. */
  writtenAt: number;
}

/** The compacted-topic token store; `commit` resolves only once the broker acknowledged (acks=all). */
export interface TokenStore {
  commit(token: SourceToken): Promise<void>;
  /** The newest token of a source, read to the end of the topic on start; undefined if none. */
  latest(source: string): Promise<SourceToken | undefined>;
  close(): Promise<void>;
}

export function tokenKey(pipeline: string, source: string): string {
  return `${pipeline}/${source}`;
}
