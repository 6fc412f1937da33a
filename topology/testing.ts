/**
 * `rxcdc/testing`: what a test of a topology or of a custom operator needs, with no broker or database.
 * `MemoryTransport` runs a whole topology in memory (Kafka Streams' TopologyTestDriver); `runOperator`
 * pushes events through one operator exactly as a stage does; `changeEvent` makes an event to push.
 */
import type { ChangeEvent, Op, Row, SourceInfo } from './change-event.ts';
import { OperatorStage, type ChangeOperator, type OperatorErrorPolicy, type RefusedEvent } from './operator-stage.ts';

export { MemoryTransport, type MemoryTransportOptions } from './transports/memory.ts';
export type { RefusedEvent } from './operator-stage.ts';

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

/**
 * Feeds `events` one at a time through `operator` as a pipeline stage does: outputs must come while their
 * input is handled (a late emission throws, as it stops a pipeline), and an exception stops the run
 * (`onError: 'stop'`, thrown as OperatorError) or refuses that event (`'dead-letter'`).
 */
export function runOperator(
  operator: ChangeOperator,
  events: readonly ChangeEvent[],
  options: { name?: string; onError?: OperatorErrorPolicy } = {},
): { outputs: ChangeEvent[]; refused: RefusedEvent[] } {
  const stage = new OperatorStage([{ name: options.name ?? 'operator', operator, onError: options.onError ?? 'stop' }]);
  const outputs: ChangeEvent[] = [];
  const refused: RefusedEvent[] = [];
  for (const event of events) stage.feed(event, outputs, refused);
  return { outputs, refused };
}
