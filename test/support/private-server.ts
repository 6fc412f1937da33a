import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../../scripts/stack/lifecycle.ts';
import { portOpen, runningPid, sleep, stopService } from '../../scripts/stack/process.ts';
import type { Service } from '../../scripts/stack/service.ts';

/**
 * A server of one test (MariaDB, Kafka), started from the stack's own service code on free ports with a
 * data dir of its own, for tests that stop and restart a server: the stack's shared one, which other
 * tests use at the same time, is never touched. Only the pid this object started is ever signalled.
 */
export abstract class PrivateServer {
  constructor(
    protected readonly service: Service,
    private readonly dir: string,
  ) {}

  /** SIGKILL: the server dies at once, as in a crash. */
  async kill(): Promise<void> {
    const pid = runningPid(this.service);
    if (pid === undefined) throw new Error(`${this.service.name} is not running`);
    process.kill(pid, 'SIGKILL');
    while (runningPid(this.service) !== undefined) await sleep(20);
  }

  /** SIGTERM: a clean shutdown, as an operator stops a server. */
  async shutdown(timeoutMs?: number): Promise<void> {
    await stopService(this.service, timeoutMs);
  }

  /** Starts it again on the same data dir and ports. */
  async restart(): Promise<void> {
    await startService(this.service);
  }

  /** Stops it if it runs and deletes its data dir. */
  async remove(): Promise<void> {
    await stopService(this.service, 5_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts `instance` (given `ports` consecutive free ports from the first, and a fresh dir) and wraps it;
 * a start that fails leaves nothing behind.
 */
export async function startPrivateServer<T extends PrivateServer>(
  name: string,
  instance: (port: number, dir: string) => Service,
  wrap: (service: Service, dir: string) => T,
  ports = 1,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `rxcdc-${name}-`));
  const service = instance(await freePorts(ports), dir);
  const server = wrap(service, dir);
  try {
    await startService(service);
  } catch (error) {
    await server.remove();
    throw error;
  }
  return server;
}

/** A port the OS gives out whose next `count - 1` ports are free too. */
async function freePorts(count: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: given } = server.address() as AddressInfo;
        server.close(() => resolve(given));
      });
    });
    let next = 1;
    while (next < count && port + next <= 65_535 && !(await portOpen(port + next))) next++;
    if (next === count) return port;
  }
}
