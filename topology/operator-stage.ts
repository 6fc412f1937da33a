import { Subject, catchError, type Observable, type OperatorFunction } from 'rxjs';
import type { ChangeEvent } from './change-event.ts';
import { ConfigError, OperatorError } from './errors.ts';

/** What a user operator is: a plain RxJS operator from change events to change events, answering synchronously. */
export type ChangeOperator = OperatorFunction<ChangeEvent, ChangeEvent>;

/**
 * What happens to an event for which an operator throws. `stop` (the default): the pipeline stops with the
 * operator's error, and the event is written nowhere, so a restart meets it again (fix the operator first).
 * `dead-letter`: the event goes to the dead-letter topic with the error as its reason, and the stream goes on.
 */
export type OperatorErrorPolicy = 'stop' | 'dead-letter';

/** An operator with the name `describe` shows, and its error policy (default `stop`). */
export interface NamedOperator {
  name: string;
  operator: ChangeOperator;
  onError?: OperatorErrorPolicy;
}

/** An event an operator refused (threw for) under the `dead-letter` policy. */
export interface RefusedEvent {
  event: ChangeEvent;
  operator: string;
  reason: string;
}

/**
 * Runs user operators inside a stage that writes in batches and commits positions (a token, or consumer
 * offsets) after each batch. An event's outputs must be known before the position after it is committed,
 * so the operators must answer synchronously (map, filter, mask, route; no delay or async lookups): an
 * emission outside of `feed` fails the stage with a clear error rather than being written after the
 * position that covers it, where a crash would lose it.
 *
 * An operator that throws ends its RxJS chain; under the `dead-letter` policy the event is refused and the
 * chain is built again for the next event (so an operator's own state, a `scan` say, starts over).
 */
export class OperatorStage {
  private readonly operators: readonly NamedOperator[];
  private input: Subject<ChangeEvent> | undefined;
  private into: ChangeEvent[] | undefined;
  private failure: unknown;
  private thrown: OperatorError | undefined;
  /** True when there are no operators: every event comes out as it went in. */
  readonly passesThrough: boolean;

  constructor(operators: readonly NamedOperator[]) {
    this.operators = operators;
    this.passesThrough = operators.length === 0;
    if (this.passesThrough) return;
    this.connect();
    this.feed = this.feedThroughOperators;
  }

  /**
   * Appends the outputs of `event` to `into`; without operators, the event itself. An event an operator
   * throws for is added to `refused` when that operator's policy is `dead-letter`; otherwise feed throws
   * the OperatorError.
   */
  feed(event: ChangeEvent, into: ChangeEvent[], _refused?: RefusedEvent[]): void {
    into.push(event);
  }

  private feedThroughOperators(event: ChangeEvent, into: ChangeEvent[], refused?: RefusedEvent[]): void {
    if (this.failure !== undefined) throw this.failure;
    const outputsBefore = into.length;
    this.into = into;
    try {
      this.input!.next(event);
    } finally {
      this.into = undefined;
    }
    const thrown = this.thrown;
    if (thrown === undefined) return;
    this.thrown = undefined;
    // Outputs the operators made for this event before one threw are dropped with it.
    into.length = outputsBefore;
    if (refused === undefined || this.policyOf(thrown.operator) !== 'dead-letter') {
      this.failure = thrown;
      throw thrown;
    }
    refused.push({ event, operator: thrown.operator, reason: thrown.message });
    this.connect();
  }

  private connect(): void {
    const names = this.operators.map((op) => op.name).join(' → ');
    const input = new Subject<ChangeEvent>();
    let output: Observable<ChangeEvent> = input;
    // After each operator: an error not yet named gets the name of the operator it came out of.
    for (const { name, operator } of this.operators) {
      output = output.pipe(
        operator,
        catchError((error: unknown) => {
          throw error instanceof OperatorError ? error : new OperatorError(name, error);
        }),
      );
    }
    output.subscribe({
      next: (event) => {
        if (this.into) this.into.push(event);
        else this.failure ??= new ConfigError(`operators ${names} emitted an event after their input was handled: operators must be synchronous (map, filter, ...)`);
      },
      error: (error: unknown) => {
        if (this.into && error instanceof OperatorError) this.thrown = error;
        else this.failure ??= error;
      },
    });
    this.input = input;
  }

  private policyOf(operator: string): OperatorErrorPolicy {
    return this.operators.find((op) => op.name === operator)?.onError ?? 'stop';
  }
}

/**
 * What a module named under `operators:` in a pipeline config exports: a function from the options given
 * there to the operator (`export default (options) => map(...)`).
 */
export type OperatorFactory<Options = Record<string, unknown>> = (options: Options) => ChangeOperator;
