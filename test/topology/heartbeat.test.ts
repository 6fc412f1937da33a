import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatPacer } from '../../topology/heartbeat.ts';

/** A pacer on a clock the test moves. */
function pacer(intervalMs: number): { pacer: HeartbeatPacer; at: (ms: number) => void } {
  let now = 1_000;
  return { pacer: new HeartbeatPacer(intervalMs, () => now), at: (ms) => (now = 1_000 + ms) };
}

test('the first position without captured changes is a heartbeat, then at most one per interval, however many pass', () => {
  const { pacer: heartbeats, at } = pacer(500);
  const beats: number[] = [];
  for (let ms = 0; ms <= 2_000; ms += 10) {
    at(ms);
    if (heartbeats.beat()) beats.push(ms);
  }
  assert.deepEqual(beats, [0, 500, 1_000, 1_500, 2_000]);
});

test('a token moved by a captured change puts the next heartbeat a whole interval later', () => {
  const { pacer: heartbeats, at } = pacer(500);
  at(400);
  heartbeats.moved();
  at(800);
  assert.equal(heartbeats.beat(), false, 'only 400 ms since the token moved');
  at(900);
  assert.equal(heartbeats.beat(), true);
  assert.equal(heartbeats.beat(), false, 'the heartbeat itself moved the token');
});

test('interval 0: no heartbeats at all', () => {
  const { pacer: heartbeats, at } = pacer(0);
  at(1_000_000);
  assert.equal(heartbeats.beat(), false);
});
