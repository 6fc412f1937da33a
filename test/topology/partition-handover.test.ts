import { test } from 'node:test';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { handoverWhileRetrying, stopWhileRetrying } from './support/handover-scenarios.ts';

test('in memory: a member joining while a batch waits to retry takes the partition over, never two handlers at once', { timeout: 10_000 }, async () => {
  const transport = new MemoryTransport();
  await handoverWhileRetrying(() => transport, 'changes', 'sink');
});

test('in memory: stop() while a batch waits to retry ends the retries and commits nothing', { timeout: 10_000 }, async () => {
  await stopWhileRetrying(new MemoryTransport(), 'changes', 'sink');
});
