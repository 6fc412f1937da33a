import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopologyBuilder } from '../../topology/topology.ts';
import { JsonSerde } from '../../topology/json-serde.ts';
import type { SinkConnector, SinkRecord } from '../../topology/sink.ts';
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

/** Records each batch's size in rows and in the bytes its records had in the topic (JsonSerde's encoding, which the repartition stage forwards as it is). */
class MeasuringSink implements SinkConnector {
  readonly name = 'measuring';
  readonly batches: Array<{ rows: number; bytes: number; largestRecord: number }> = [];
  /** Per partition, the offsets applied, in the order applied. */
  readonly offsets = new Map<number, bigint[]>();
  async start() {}
  async apply(batch: readonly SinkRecord[]) {
    const encoded = await serde.encode('any', batch.map((record) => record.event));
    const sizes = encoded.map((record) => (record.key?.length ?? 0) + record.value.length);
    this.batches.push({ rows: batch.length, bytes: sizes.reduce((sum, size) => sum + size, 0), largestRecord: Math.max(...sizes) });
    for (const record of batch) {
      const offsets = this.offsets.get(record.partition) ?? [];
      offsets.push(BigInt(record.offset));
      this.offsets.set(record.partition, offsets);
    }
    return { rejected: [] };
  }
  async close() {}
}

const serde = new JsonSerde();

test("a sink's batches keep to maxBatchRows and maxBatchBytes however much the transport delivers at once, in offset order", async () => {
  const total = 20_000;
  const limits = { maxBatchRows: 300, maxBatchBytes: 16 * 1024 };
  const sink = new MeasuringSink();
  // Batches of up to 5 000 records from the transport; every 1 000th event alone is larger than maxBatchBytes.
  const transport = new MemoryTransport({ maxBatch: 5_000 });
  const payload = (id: number) => 'x'.repeat(id % 1_000 === 999 ? 20_000 : (id % 7) * 40);
  const running = await new TopologyBuilder({ pipeline: 'bounded', serde })
    .source(new GeneratingSource(total, PER_TRANSACTION, (id) => changeEvent('c', 't', id, null, { id, payload: payload(id) }, String(id), false)), { snapshot: 'never' })
    .repartition({ partitions: 4 })
    .sink(sink, limits)
    .build()
    .start(transport);
  await eventually('every event reaches the sink', () => sink.batches.reduce((sum, batch) => sum + batch.rows, 0) >= total, 120_000);
  await running.stop();
  assert.equal(sink.batches.reduce((sum, batch) => sum + batch.rows, 0), total);
  assert.ok(sink.batches.some((batch) => batch.rows === limits.maxBatchRows || batch.bytes > limits.maxBatchBytes / 2), 'the limits were reached');
  for (const batch of sink.batches) {
    assert.ok(batch.rows <= limits.maxBatchRows, `a batch of ${batch.rows} rows`);
    // A record larger than maxBatchBytes is a batch of its own.
    assert.ok(batch.bytes <= limits.maxBatchBytes || (batch.rows === 1 && batch.largestRecord > limits.maxBatchBytes), `a batch of ${batch.bytes} bytes in ${batch.rows} rows`);
  }
  for (const [partition, offsets] of sink.offsets) {
    assert.ok(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!), `partition ${partition} applied in offset order`);
  }
});

test('sink batch limits that are not positive whole numbers are refused when the sink is added', () => {
  const builder = new TopologyBuilder({ pipeline: 'bounded', serde });
  assert.throws(() => builder.sink(new CountingSink(), { maxBatchBytes: 0 }), /sink noop: maxBatchBytes must be a positive whole number, got 0/);
  assert.throws(() => builder.sink(new CountingSink(), { maxBatchRows: 1.5 }), /sink noop: maxBatchRows must be a positive whole number, got 1.5/);
});
