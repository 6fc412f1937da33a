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
