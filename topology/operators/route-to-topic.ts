import { map, type OperatorFunction } from 'rxjs';
import type { ChangeEvent } from '../change-event.ts';

/** An operator that writes some events to topics other than its stage's default; the topology creates them on start. */
export type RoutingOperator = OperatorFunction<ChangeEvent, ChangeEvent> & { readonly outputTopics: readonly string[] };

/**
 * Sends the events `where` selects to `topic` instead of their source's change topic (for instance one
 * table to a topic another team owns). The topic is declared here so it exists before the first event.
 * Only meaningful before the change topics (the source stage).
 */
export function routeToTopic(topic: string, where: (event: ChangeEvent) => boolean): RoutingOperator {
  const operator = map((event: ChangeEvent) => (where(event) ? { ...event, topic } : event));
  return Object.assign(operator, { outputTopics: [topic] as const });
}

export function outputTopicsOf(operator: OperatorFunction<ChangeEvent, ChangeEvent>): readonly string[] {
  return (operator as Partial<RoutingOperator>).outputTopics ?? [];
}
