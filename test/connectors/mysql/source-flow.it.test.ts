import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { StreamItem } from '../../../topology/source.ts';
import { withSourceDatabase } from './source-fixture.ts';

const ROWS = 100_000;
const HIGH_WATER = 1_000;

test('a 100k-row transaction streams under flow control: the source stops while paused and goes on when resumed', { timeout: 300_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.big (id INT PRIMARY KEY, pad VARCHAR(40))`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.beginTransaction();
    await admin.query(`INSERT INTO \`${db}\`.big SELECT seq, CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_${ROWS}`);
    await admin.commit();

    const flow = new FlowControl(HIGH_WATER);
    let changes = 0;
    let emittedWhilePaused = 0;
    let firstPause: () => void = () => {};
    const paused = new Promise<void>((resolve) => (firstPause = resolve));
    const committed = new Promise<StreamItem>((resolve, reject) => {
      const subscription = source.stream(from, flow).subscribe({
        next: (item) => {
          if (item.kind === 'commit') {
            subscription.unsubscribe();
            resolve(item);
            return;
          }
          if (item.kind !== 'change') return;
          if (flow.paused) emittedWhilePaused++;
          changes++;
          // Nothing downstream acknowledges these events yet: they stay in flight.
          flow.acquire();
          if (flow.paused) firstPause();
        },
        error: reject,
      });
    });

    await paused;
    // Give the source every chance to read on while it is paused.
    await sleep(500);
    const heldAt = changes;
    assert.ok(heldAt < ROWS / 10, `the source stopped near the high-water mark (${heldAt} of ${ROWS} events)`);
    // One rows event (a few KiB of binlog) may finish decoding after the pause; never more.
    assert.ok(emittedWhilePaused < HIGH_WATER, `${emittedWhilePaused} events came while paused`);

    // Acknowledge in flight events as they come from now on.
    flow.release(flow.pending);
    const sink = setInterval(() => flow.release(flow.pending), 1);
    try {
      const commit = await committed;
      assert.equal(commit.kind, 'commit');
      assert.equal(changes, ROWS);
    } finally {
      clearInterval(sink);
    }
  });
});
