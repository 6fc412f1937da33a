import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterClock, StreamReach } from '../../../connectors/mongodb/stream-reach.ts';
import type { ClusterTime } from '../../../connectors/mongodb/position.ts';
import { eventually } from '../../topology/support/eventually.ts';

test('the floor is the lowest reach of the streams, and a boundary only while none holds a change back', () => {
  const reach = new StreamReach();
  assert.equal(reach.floor(), undefined, 'no stream yet');
  assert.equal(reach.boundary(), undefined);
  reach.reach('orders', '0000000100.0000000001.00000000');
  reach.reach('refunds', '0000000100.0000000003.00000000');
  // orders emits a change at (100, 5): refunds, which has read only up to (100, 3), may still bring one before it.
  reach.hold('orders');
  reach.reach('orders', '0000000100.0000000005.00000001');
  assert.equal(reach.floor(), '0000000100.0000000003.00000000');
  assert.equal(reach.boundary(), undefined, 'orders holds a transaction half emitted');
  reach.release('orders');
  assert.equal(reach.boundary(), '0000000100.0000000003.00000000');
  reach.reach('refunds', '0000000100.0000000009.00000000');
  assert.equal(reach.boundary(), '0000000100.0000000005.00000001');
  reach.reach('orders', '0000000100.0000000002.00000000');
  assert.equal(reach.boundary(), '0000000100.0000000005.00000001', 'a reach never moves back');
});

test('the cluster clock reads one cluster time at a time, on demand, and keeps the last one read', async () => {
  const reads: Array<{ resolve(time: ClusterTime): void; reject(error: Error): void }> = [];
  const clock = new ClusterClock(() => new Promise<ClusterTime>((resolve, reject) => reads.push({ resolve, reject })));
  assert.equal(clock.known, undefined);
  clock.want();
  clock.want();
  assert.equal(reads.length, 1, 'one read under way at a time');
  reads[0]?.resolve({ t: 100, i: 4 });
  await eventually('the first time read', () => clock.known?.i === 4);
  clock.want();
  reads[1]?.reject(new Error('connection lost'));
  await eventually('a read after the failed one', () => {
    clock.want();
    return reads.length === 3;
  });
  assert.deepEqual(clock.known, { t: 100, i: 4 }, 'a failed read keeps the time read before');
});
