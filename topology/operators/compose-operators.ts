import { pipe } from 'rxjs';
import type { ChangeOperator } from '../operator-stage.ts';
import { outputTopicsOf, type RoutingOperator } from './route-to-topic.ts';

/**
 * RxJS's `pipe(...)` for change operators, keeping what the topology reads from them: the topics routing
 * operators declare (`outputTopics`), which a plain `pipe()` drops. With rxjs's own `pipe`, declare them
 * in `through(name, operator, { topics })` instead.
 */
export function composeOperators(...operators: ChangeOperator[]): RoutingOperator {
  const composed = (pipe as (...fns: ChangeOperator[]) => ChangeOperator)(...operators);
  return Object.assign(composed, { outputTopics: [...new Set(operators.flatMap(outputTopicsOf))] });
}
