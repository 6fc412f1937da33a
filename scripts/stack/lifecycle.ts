import { ensurePortFree, waitUntilReady } from './process.ts';
import type { Service } from './service.ts';

/** Starts `service` when `start` (else it already runs), waits until it answers, then bootstraps it (users, grants). */
export async function bringUp(service: Service, start: boolean): Promise<void> {
  if (start) service.start();
  await waitUntilReady(service, service.ready, service.startTimeoutMs);
  await service.bootstrap?.();
}

/**
 * Prepares and starts one managed service on its own ports, and waits until it answers: a private
 * instance for a test that stops and restarts a server (`stack up` starts the shared ones).
 */
export async function startService(service: Service): Promise<void> {
  for (const port of service.ports) await ensurePortFree(service.name, port, service.envName);
  await service.prepare();
  await bringUp(service, true);
}
