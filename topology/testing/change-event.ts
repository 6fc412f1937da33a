import type { ChangeEvent, Op, Row, SourceInfo } from '../change-event.ts';

/** A change event for a test: `op`, `key` and the images as given, a MySQL-like source filled in. */
export function changeEvent(event: { op: Op; key: Row; before?: Row | null; after?: Row | null; source?: Partial<SourceInfo> }): ChangeEvent {
  return {
    op: event.op,
    key: event.key,
    before: event.before ?? null,
    after: event.after ?? null,
    source: { connector: 'mysql', name: 'test', db: 'app', table: 't', position: '0', tsMs: 0, snapshot: event.op === 'r', ...event.source },
    tsMs: 0,
  };
}
