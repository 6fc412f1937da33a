import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import type { SinkConnector } from '../../topology/sink.ts';
import { changeEvent } from './support/fake-source.ts';
import { eventually } from './support/eventually.ts';
import { GeneratingSource } from './support/generating-source.ts';

const TOTAL = 2_000_000;
const PER_TRANSACTION = 10;

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
    .source(
      new GeneratingSource(TOTAL, PER_TRANSACTION, (id) => changeEvent('c', 't', id, null, { id, payload: 'x'.repeat(64) }, String(id), false)),
      { snapshot: 'never' },
    )
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
