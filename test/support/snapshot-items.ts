import type { ChangeEvent } from '../../topology/change-event.ts';
import type { SnapshotItem } from '../../topology/source.ts';

/** A snapshot's `r` events, without the end marker of each table. */
export function snapshotRows(items: readonly SnapshotItem[]): ChangeEvent[] {
  return items.flatMap((item) => (item.kind === 'row' ? [item.event] : []));
}

/**
 * A table's items as marks, to check where its end marker falls: `r`, `end` (with the marker's op and
 * position), `chunk`, `done`. `table` as the source names it in progress: `db.table` (MySQL) or the
 * collection (MongoDB).
 */
export function snapshotMarks(items: readonly SnapshotItem[], table: string): string[] {
  const named = ({ source }: ChangeEvent) => table === `${source.db}.${source.table}` || table === source.table;
  return items.flatMap((item) => {
    if (item.kind === 'row') return named(item.event) ? [item.event.op] : [];
    if (item.kind === 'tableDone') return named(item.marker) ? [`end ${item.marker.op} ${item.marker.source.position}`] : [];
    return item.table === table ? [item.progress.done ? 'done' : 'chunk'] : [];
  });
}
