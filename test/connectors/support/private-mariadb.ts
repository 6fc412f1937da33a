import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../../../scripts/stack/lifecycle.ts';
import { runningPid, sleep, stopService } from '../../../scripts/stack/process.ts';
import { mariadbInstance } from '../../../scripts/stack/services/mariadb.ts';
import type { Service } from '../../../scripts/stack/service.ts';

/**
 * A MariaDB server of one test, started from the stack's own service code on a free port with a data
 * dir of its own, for tests that stop and restart a server: the stack's shared MariaDB, which other tests
 * use at the same time, is never touched. Only the pid this object started is ever signalled.
 */
export class PrivateMariaDb {
  private constructor(
    private readonly service: Service,
    private readonly dir: string,
  ) {}

  static async start(name: string): Promise<PrivateMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), `rxcdc-${name}-`));
    const service = mariadbInstance({ name: `mariadb-${name}`, port: await freePort(), dir });
    const server = new PrivateMariaDb(service, dir);
    try {
      await startService(service);
    } catch (error) {
      await server.remove();
      throw error;
    }
    return server;
  }

  /** mysql://cdc:cdc@127.0.0.1:<port>/<database> */
  url(database = ''): string {
    return `${this.service.endpoint}/${database}`;
  }

  /** SIGKILL: the server dies at once, as in a crash; committed transactions survive in its redo log. */
  async kill(): Promise<void> {
    const pid = runningPid(this.service);
    if (pid === undefined) throw new Error(`${this.service.name} is not running`);
    process.kill(pid, 'SIGKILL');
    while (runningPid(this.service) !== undefined) await sleep(20);
  }

  /** SIGTERM: a clean shutdown, which ends every client connection first. */
  async shutdown(): Promise<void> {
    await stopService(this.service);
  }

  /** Starts it again on the same data dir and port. */
  async restart(): Promise<void> {
    await startService(this.service);
  }

  /** Stops it if it runs and deletes its data dir. */
  async remove(): Promise<void> {
    await stopService(this.service, 5_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port nothing listens on now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
