import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { serviceDir } from '../paths.ts';
import { startDetached } from '../process.ts';
import { StackError } from '../stack-error.ts';
import type { Service } from '../service.ts';

/** The CDC user the tests, demo and CLI connect as: replication grants included. */
const USER = 'cdc';
const PASSWORD = 'cdc';

export interface MariaDbInstanceOptions {
  /** Names the pid file (with the port) and the log, `.stack/logs/<name>.log`. */
  name: string;
  port: number;
  /** Holds the data dir, config, socket and error log; reused as it is on the next start. */
  dir: string;
}

/**
 * A MariaDB instance of its own (own data dir and port), configured for row-based CDC. The stack runs
 * one (`mariadb` below); a test that must stop a server runs a private one, so the shared one never stops.
 * The machine's own MariaDB on 3306 is left untouched.
 */
export function mariadbInstance({ name, port, dir }: MariaDbInstanceOptions): Service {
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'my.cnf');
  const service: Service = {
    name,
    envName: 'MYSQL_URL',
    endpoint: `mysql://${USER}:${PASSWORD}@127.0.0.1:${port}`,
    ports: [port],
    managed: true,
    startTimeoutMs: 60_000,

    async prepare() {
      const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
      mkdirSync(dir, { recursive: true });
      writeFileSync(configFile, myCnf(dir, port));
      if (existsSync(join(dataDir, 'mysql'))) return;
      const result = spawnSync(
        installDb,
        [`--defaults-file=${configFile}`, ...runAsArgs(), '--auth-root-authentication-method=normal', '--skip-test-db'],
        { encoding: 'utf8' },
      );
      if (result.status !== 0) {
        throw new StackError(`${name}: ${installDb} failed to create ${dataDir}: ${(result.stderr || result.stdout).trim().split('\n').pop()}`);
      }
    },

    start() {
      startDetached(service, findBinary(['mariadbd', 'mysqld']), [`--defaults-file=${configFile}`, ...runAsArgs()]);
    },

    async ready() {
      const connection = await connectAsRoot(port);
      await connection.end();
      return true;
    },

    async bootstrap() {
      const connection = await connectAsRoot(port);
      try {
        for (const host of ['%', 'localhost']) {
          await connection.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [USER, host, PASSWORD]);
          await connection.query(`GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION`, [USER, host]);
        }
      } finally {
        await connection.end();
      }
    },
  };
  return service;
}

export const mariadb = mariadbInstance({ name: 'mariadb', port: Number(process.env.STACK_MARIADB_PORT ?? 3307), dir: serviceDir('mariadb') });

/** Over TCP, not the socket: a checkout that did not start this instance does not know its socket path. */
function connectAsRoot(port: number): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
}

function myCnf(dir: string, port: number): string {
  const dataDir = join(dir, 'data');
  return [
    '[mysqld]',
    `datadir=${dataDir}`,
    `socket=${join(dir, 'mysqld.sock')}`,
    `pid-file=${join(dir, 'mariadbd.pid')}`,
    `port=${port}`,
    'bind-address=127.0.0.1',
    `log-error=${join(dir, 'error.log')}`,
    // What CDC needs: the row-based binlog with full images and column metadata.
    'server_id=1',
    `log_bin=${join(dataDir, 'binlog')}`,
    'binlog_format=ROW',
    'binlog_row_image=FULL',
    'binlog_row_metadata=FULL',
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_unicode_ci',
    'innodb_buffer_pool_size=512M',
    'innodb_log_file_size=256M',
    'max_connections=500',
    'max_allowed_packet=256M',
    // Fast for tests, and the sink's retries make a lost last-second commit visible rather than silent.
    'innodb_flush_log_at_trx_commit=2',
    'sync_binlog=0',
    '',
  ].join('\n');
}

/** mariadbd refuses to run as root unless told to. */
function runAsArgs(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

function findBinary(names: string[]): string {
  for (const name of names) {
    for (const prefix of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
      if (existsSync(join(prefix, name))) return join(prefix, name);
    }
  }
  throw new StackError(`mariadb: none of ${names.join(', ')} is installed: apt-get install mariadb-server (the machine's own instance is not used)`);
}
