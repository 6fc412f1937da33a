/**
 * `source.position` for MySQL/MariaDB events, built so that plain string order is binlog order
 * (topology/change-event.ts `comparePositions`):
 *
 *   FFFFFFFFFF.PPPPPPPPPPPPPPPP.OOOOOOOOOO
 *
 * - F: the binlog file's numeric suffix (`binlog.000042` → 42), 10 digits: a rotation always
 *   increases it, so every event of a newer file sorts after every event of an older one;
 * - P: the end position (`end_log_pos`) of the binlog event, 16 digits (MariaDB positions may pass 4 GiB);
 * - O: the ordinal of the change within that event (a rows event holds many rows, and a primary-key
 *   change becomes two changes), 10 digits. Servers that write end_log_pos = 0 inside transactions keep
 *   the last real position and go on counting ordinals, so order still holds.
 *
 * A commit (and the position `openLog` returns) has ordinal 0 and the end position of its event, so it
 * sorts after every change of its transaction and before every change of the next.
 */
export interface BinlogResume {
  file: string;
  pos: number;
  /** MariaDB GTID position (domain-server-seq, ...) or MySQL GTID set after the boundary; '' if unknown. */
  gtid: string;
}

const FILE_DIGITS = 10;
const POS_DIGITS = 16;
const ORDINAL_DIGITS = 10;

export function binlogFileIndex(file: string): number {
  const suffix = /\.(\d+)$/.exec(file);
  if (!suffix) throw new Error(`binlog file name ${file} has no numeric suffix`);
  return Number(suffix[1]);
}

/** The fixed prefix shared by all changes of one binlog event: built once per event, not per row. */
export function eventPositionPrefix(fileIndex: number, endPos: number): string {
  return `${String(fileIndex).padStart(FILE_DIGITS, '0')}.${String(endPos).padStart(POS_DIGITS, '0')}.`;
}

export function changePosition(prefix: string, ordinal: number): string {
  return prefix + String(ordinal).padStart(ORDINAL_DIGITS, '0');
}

/** The position of a binlog file and offset between two events: after every change before it, before every change after it. */
export function boundaryPosition({ file, pos }: Pick<BinlogResume, 'file' | 'pos'>): string {
  return changePosition(eventPositionPrefix(binlogFileIndex(file), pos), 0);
}

/** Reads the resume data back from a token's `resume` record; throws if it is not one of ours. */
export function readResume(resume: Record<string, unknown>): BinlogResume {
  const { file, pos, gtid } = resume;
  if (typeof file !== 'string' || typeof pos !== 'number') {
    throw new Error(`not a MySQL binlog resume record: ${JSON.stringify(resume)}`);
  }
  return { file, pos, gtid: typeof gtid === 'string' ? gtid : '' };
}
