/**
 * `rxcdc/testing`: what a test of a topology or of a custom operator needs, with no broker or database.
 * `MemoryTransport` runs a whole topology in memory (Kafka Streams' TopologyTestDriver); `runOperator`
 * pushes events through one operator exactly as a stage does; `changeEvent` makes an event to push;
 * `FakeSource` over a `FakeDatabase` is a source a test commits transactions to while the topology runs.
 */
import type { ChangeEvent } from '../change-event.ts';
import { OperatorStage, type ChangeOperator, type OperatorErrorPolicy, type RefusedEvent } from '../operator-stage.ts';

export { MemoryTransport, type MemoryTransportOptions } from '../transports/memory.ts';
export type { RefusedEvent } from '../operator-stage.ts';
export { changeEvent } from './change-event.ts';
export { FakeDatabase, FakeSource, type FakeChange, type FakeSourceOptions } from './fake-source.ts';

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
