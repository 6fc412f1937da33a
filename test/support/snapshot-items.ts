import type { ChangeEvent } from '../../topology/change-event.ts';
import type { SnapshotItem } from '../../topology/source.ts';

/** A snapshot's `r` events, without the `t` that closes each table. */
export function snapshotRows(items: readonly SnapshotItem[]): ChangeEvent[] {
  return items.flatMap((item) => (item.kind === 'row' && item.event.op === 'r' ? [item.event] : []));
}

/**
 * A table's items as marks, to check where its `t` falls: `r`, `t` (with its position), `chunk`, `done`.
 * `table` as the source names it in progress: `db.table` (MySQL) or the collection (MongoDB).
 */
export function snapshotMarks(items: readonly SnapshotItem[], table: string): string[] {
  return items.flatMap((item) => {
    if (item.kind === 'row') {
      const { db, table: name } = item.event.source;
      return table === `${db}.${name}` || table === name ? [item.event.op === 't' ? `t ${item.event.source.position}` : item.event.op] : [];
    }
    return item.table === table ? [item.progress.done ? 'done' : 'chunk'] : [];
  });
}
