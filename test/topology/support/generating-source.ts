import { Observable } from 'rxjs';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { FlowControl } from '../../../topology/flow-control.ts';
import type { LogPosition, SourceConnector, StreamItem } from '../../../topology/source.ts';

/**
 * A source that streams `total` inserts in transactions of `perTransaction` as fast as FlowControl lets
 * it, making each event only when it is emitted (so it holds none itself). Runs with `snapshot: never`.
 */
export class GeneratingSource implements SourceConnector {
  readonly name = 'gen';
  readonly connector = 'mysql' as const;

  constructor(
    private readonly total: number,
    private readonly perTransaction: number,
    private readonly insert: (id: number) => ChangeEvent,
  ) {}

  async check() {}
  async openLog(): Promise<LogPosition> {
    return { position: '0', resume: {} };
  }
  async canResume() {
    return true;
  }
  async tables() {
    return ['t'];
  }
  snapshot(): Observable<never> {
    throw new Error('GeneratingSource runs with snapshot: never');
  }
  stream(_from: LogPosition, flow: FlowControl): Observable<StreamItem> {
    return new Observable<StreamItem>((subscriber) => {
      let stopped = false;
      void (async () => {
        for (let id = 0; id < this.total && !stopped; id++) {
          subscriber.next({ kind: 'change', event: this.insert(id) });
          if (id % this.perTransaction === this.perTransaction - 1) subscriber.next({ kind: 'commit', position: { position: String(id + 1), resume: {} } });
          if (flow.paused) await flow.resumed();
        }
      })();
      return () => {
        stopped = true;
      };
    });
  }
  async close() {}
}
