/** What `cdc status` makes of a source's token: captured tables, incremental snapshots in progress, and tokens from before either was recorded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, sourceStatus } from '../../cli/commands/status.ts';
import type { SourceToken } from '../../topology/token.ts';

const at = (minute: number) => Date.UTC(2026, 10, 22, 10, minute);
const base: SourceToken = { pipeline: 'p', source: 'shop', phase: 'streaming', position: '000000000042', resume: {}, writtenAt: at(30) };

test('status shows the tables a source captures since when, and its incremental snapshots with rows done of the estimate', () => {
  const token: SourceToken = {
    ...base,
    captured: { 'shop.orders': at(0), 'shop.customers': at(20) },
    incremental: [
      { id: 'r1', table: 'shop.orders', reason: 'requested', requestedAt: at(25), startedAt: at(26), from: '000000000040', lastKey: 'k', rows: 1200, chunks: 12, estimate: 5000 },
      { id: 'added:1', table: 'shop.customers', reason: 'added', requestedAt: at(20), rows: 0, chunks: 0 },
    ],
  };
  const status = sourceStatus('shop', token);
  assert.deepEqual(status.captured, [
    { table: 'shop.customers', since: '2026-11-22T10:20:00.000Z' },
    { table: 'shop.orders', since: '2026-11-22T10:00:00.000Z' },
  ]);
  assert.deepEqual(status.incremental, [
    { id: 'r1', table: 'shop.orders', reason: 'requested', requestedAt: '2026-11-22T10:25:00.000Z', startedAt: '2026-11-22T10:26:00.000Z', rows: 1200, estimatedRows: 5000, chunks: 12 },
    { id: 'added:1', table: 'shop.customers', reason: 'added', requestedAt: '2026-11-22T10:20:00.000Z', startedAt: null, rows: 0, estimatedRows: null, chunks: 0 },
  ]);
  const text = formatStatus({ pipeline: 'p', sources: [status], stages: [] });
  assert.match(
    text,
    /captured tables\nsource +table +since\n[- ]+\nshop +shop\.customers +2026-11-22T10:20:00\.000Z\nshop +shop\.orders +2026-11-22T10:00:00\.000Z\n/,
  );
  assert.match(
    text,
    /incremental snapshots\nsource +table +reason +request +rows +chunks +requested\n[- ]+\nshop +shop\.orders +requested +r1 +1200\/5000 \(24%\) +12 +2026-11-22T10:25:00\.000Z\nshop +shop\.customers +added +added:1 +0 +0 +2026-11-22T10:20:00\.000Z\n/,
  );
});

test('a token from before captured tables and incremental snapshots were recorded, or none at all, still shows', () => {
  const old = sourceStatus('shop', base);
  assert.deepEqual([old.phase, old.captured, old.incremental], ['streaming', null, []]);
  const never = sourceStatus('logs', undefined);
  assert.deepEqual([never.phase, never.captured, never.incremental], ['not started', null, []]);
  const text = formatStatus({ pipeline: 'p', sources: [old, never], stages: [] });
  assert.match(text, /captured tables\nsource +table +since\n[- ]+\nshop +- +-\nlogs +- +-\n\nincremental snapshots\nnone\n/);
});
