import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../../scripts/stack/lifecycle.ts';
import { runningPid, sleep, stopService } from '../../scripts/stack/process.ts';
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

/**
 * `count` consecutive free ports below the OS's ephemeral range. A port the OS gives out for listening
 * comes from that range, where every outgoing connection of every test also takes its local port: the
 * port after a free one could be taken by a client between this check and the server's bind (seen: a
 * private Kafka's controller port). Below the range only servers bind.
 */
async function freePorts(count: number): Promise<number> {
  const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number];
  const low = 10_000;
  for (;;) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - count - low));
    let free = 0;
    while (free < count && (await canListen(port + free))) free++;
    if (free === count) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
