import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { PipelineMetrics } from '../../topology/metrics.ts';

function snapshotRow(connector: 'mysql' | 'mongodb', db: string, table: string, id: number): ChangeEvent {
  return { op: 'r', key: { id }, before: null, after: { id }, source: { connector, name: 's', db, table, position: '0', snapshot: true, tsMs: 0 }, tsMs: 0 };
}

function rowsOf(metrics: PipelineMetrics): Record<string, { rows: number; estimate?: number }> {
  return Object.fromEntries([...metrics.sources.get('s')!.tables].map(([table, { rows, estimate }]) => [table, { rows, estimate }]));
}

test('snapshot rows count against the table names the source planned with: db.table for MySQL', () => {
  const metrics = new PipelineMetrics();
  metrics.snapshotPlanned('s', { 'shop.orders': { done: false, rows: 10, chunks: 1 } }, { 'shop.orders': 100, 'shop.items': 5 });
  metrics.sourceWrote('s', [snapshotRow('mysql', 'shop', 'orders', 1), snapshotRow('mysql', 'shop', 'orders', 2), snapshotRow('mysql', 'shop', 'items', 1)], undefined);
  assert.deepEqual(rowsOf(metrics), { 'shop.orders': { rows: 12, estimate: 100 }, 'shop.items': { rows: 1, estimate: 5 } });
});

test('snapshot rows count against the table names the source planned with: the collection alone for MongoDB', () => {
  const metrics = new PipelineMetrics();
  metrics.snapshotPlanned('s', {}, { products: 3 });
  metrics.sourceWrote('s', [snapshotRow('mongodb', 'catalog', 'products', 1), snapshotRow('mongodb', 'catalog', 'products', 2)], undefined);
  assert.deepEqual(rowsOf(metrics), { products: { rows: 2, estimate: 3 } });
});

test("after a table's snapshot is done, its incremental snapshot's rows leave the initial progress alone, and a table first read while streaming gets none", () => {
  const metrics = new PipelineMetrics();
  metrics.snapshotPlanned('s', {}, { 'shop.orders': 2 });
  const token = { pipeline: 'p', source: 's', phase: 'snapshot' as const, position: '1', resume: {}, writtenAt: 0, snapshot: { 'shop.orders': { done: true, rows: 2, chunks: 1 } } };
  metrics.sourceWrote('s', [snapshotRow('mysql', 'shop', 'orders', 1), snapshotRow('mysql', 'shop', 'orders', 2)], token);
  metrics.sourcePhase('s', 'streaming');
  metrics.sourceWrote('s', [snapshotRow('mysql', 'shop', 'orders', 1), snapshotRow('mysql', 'shop', 'added', 1)], undefined);
  assert.deepEqual(rowsOf(metrics), { 'shop.orders': { rows: 2, estimate: 2 } });
  assert.equal(metrics.sources.get('s')!.tables.get('shop.orders')!.done, true);
});
