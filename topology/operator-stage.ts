import { Subject, type OperatorFunction } from 'rxjs';
import type { ChangeEvent } from './change-event.ts';
import { ConfigError } from './errors.ts';

export interface NamedOperator {
  name: string;
  operator: OperatorFunction<ChangeEvent, ChangeEvent>;
}

/**
 * Runs user operators inside a stage that writes in batches and commits positions (a token, or consumer
 * offsets) after each batch. An event's outputs must be known before the position after it is committed,
 * so the operators must answer synchronously (map, filter, mask, route; no delay or async lookups): an
 * emission outside of `feed` fails the stage with a clear error rather than being written after the
 * position that covers it, where a crash would lose it.
 */
export class OperatorStage {
  private readonly input = new Subject<ChangeEvent>();
  private into: ChangeEvent[] | undefined;
  private failure: unknown;
  /** True when there are no operators: every event comes out as it went in. */
  readonly passesThrough: boolean;

  constructor(operators: readonly NamedOperator[]) {
    this.passesThrough = operators.length === 0;
    if (this.passesThrough) return;
    const names = operators.map((op) => op.name).join(' → ');
    let output = this.input.asObservable();
    for (const { operator } of operators) output = output.pipe(operator);
    output.subscribe({
      next: (event) => {
        if (this.into) this.into.push(event);
        else this.failure ??= new ConfigError(`operators ${names} emitted an event after their input was handled: operators must be synchronous (map, filter, ...)`);
      },
      error: (error: unknown) => (this.failure ??= error),
    });
    this.feed = this.feedThroughOperators;
  }

  /** Appends the outputs of `event` to `into`; without operators, the event itself. */
  feed(event: ChangeEvent, into: ChangeEvent[]): void {
    into.push(event);
  }

  private feedThroughOperators(event: ChangeEvent, into: ChangeEvent[]): void {
    if (this.failure !== undefined) throw this.failure;
    this.into = into;
    try {
      this.input.next(event);
    } finally {
      this.into = undefined;
    }
    if (this.failure !== undefined) throw this.failure;
  }
}
