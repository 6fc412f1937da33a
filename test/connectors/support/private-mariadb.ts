import { mariadbInstance } from '../../../scripts/stack/services/mariadb.ts';
import { PrivateServer, startPrivateServer } from '../../support/private-server.ts';

/** A MariaDB server of one test (test/support/private-server.ts); SIGKILL keeps committed transactions (redo log). */
export class PrivateMariaDb extends PrivateServer {
  static start(name: string): Promise<PrivateMariaDb> {
    return startPrivateServer(
      name,
      (port, dir) => mariadbInstance({ name: `mariadb-${name}`, port, dir }),
      (service, dir) => new PrivateMariaDb(service, dir),
    );
  }

  /** mysql://cdc:cdc@127.0.0.1:<port>/<database> */
  url(database = ''): string {
    return `${this.service.endpoint}/${database}`;
  }
}
