/** The fake database and source live in rxcdc/testing; this adds the positional event builder the tests use. */
import type { ChangeEvent, Op, Row } from '../../../topology/change-event.ts';
import { changeEvent as event } from '../../../topology/testing/change-event.ts';

export { FakeDatabase, FakeSource, type FakeChange, type FakeSourceOptions } from '../../../topology/testing/fake-source.ts';

export function changeEvent(op: Op, table: string, id: number, before: Row | null, after: Row | null, at: string, snapshot: boolean): ChangeEvent {
  return event({ op, key: { id }, before, after, source: { name: 'fake', table, position: at, snapshot } });
}
