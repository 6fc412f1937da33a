/**
 * Decoded rows are avsc record instances; deepStrictEqual compares prototypes, so tests compare
 * plain copies of them.
 */
import type { ChangeEvent, Row } from '../../topology/change-event.ts';

const plainRow = (row: Row | null): Row | null => (row === null ? null : { ...row });

export function plainEvent(event: ChangeEvent | Error): ChangeEvent {
  if (event instanceof Error) throw event;
  return { ...event, key: { ...event.key }, before: plainRow(event.before), after: plainRow(event.after) };
}
