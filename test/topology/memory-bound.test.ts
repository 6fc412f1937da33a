import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Observable } from 'rxjs';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import type { FlowControl } from '../../topology/flow-control.ts';
import type { LogPosition, SourceConnector, StreamItem } from '../../topology/source.ts';
import type { SinkConnector } from '../../topology/sink.ts';
import { changeEvent } from './support/fake-source.ts';
import { eventually } from './support/eventually.ts';

const TOTAL = 2_000_000;
const PER_TRANSACTION = 10;

/** Streams TOTAL inserts as fast as FlowControl lets it, making each event only when it is emitted. */
class GeneratingSource implements SourceConnector {
  readonly name = 'gen';
  readonly connector = 'mysql' as const;
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
    throw new Error('snapshot: never');
  }
  stream(_from: LogPosition, flow: FlowControl): Observable<StreamItem> {
    return new Observable<StreamItem>((subscriber) => {
      let stopped = false;
      void (async () => {
        for (let id = 0; id < TOTAL && !stopped; id++) {
          subscriber.next({ kind: 'change', event: changeEvent('c', 't', id, null, { id, payload: 'x'.repeat(64) }, String(id), false) });
          if (id % PER_TRANSACTION === PER_TRANSACTION - 1) subscriber.next({ kind: 'commit', position: { position: String(id + 1), resume: {} } });
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

class CountingSink implements SinkConnector {
  readonly name = 'noop';
  applied = 0;
  async start() {}
  async apply(batch: readonly unknown[]) {
    this.applied += batch.length;
    return { rejected: [] };
  }
  async close() {}
}

test(`${TOTAL} events through source → repartition → no-op sink on the memory transport stay under 300 MB RSS`, async () => {
  const sink = new CountingSink();
  // The topics' backlog would be on the broker's disk: the memory transport forgets what every group
  // committed and makes a producer wait while a partition holds 20 000 unconsumed records.
  const transport = new MemoryTransport({ dropConsumed: true, maxRetained: 20_000, maxBatch: 2000 });
  const running = await new TopologyBuilder({ pipeline: 'mem', serde: new JsonSerde(), maxInFlightEvents: 20_000 })
    .source(new GeneratingSource(), { snapshot: 'never' })
    .repartition({ partitions: 8 })
    .sink(sink)
    .build()
    .start(transport);
  let peak = 0;
  await eventually(
    'every event reaches the sink',
    () => {
      peak = Math.max(peak, process.memoryUsage.rss());
      return sink.applied === TOTAL;
    },
    600_000,
  );
  await running.stop();
  console.log(`peak RSS ${(peak / 2 ** 20).toFixed(0)} MB for ${TOTAL} events`);
  assert.ok(peak < 300 * 2 ** 20, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
});
