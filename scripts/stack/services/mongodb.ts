import { existsSync, mkdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveJars } from '../maven.ts';
import { ROOT, serviceDir } from '../paths.ts';
import { portOpen, startDetached } from '../process.ts';
import { StackError } from '../stack-error.ts';
import type { Service } from '../service.ts';

const PORT = Number(process.env.STACK_MONGODB_PORT ?? 27017);
const source = join(ROOT, 'scripts', 'stack', 'mongodb', 'MongoTestServer.java');
const classes = join(serviceDir('mongodb'), 'classes');
const compiled = join(classes, 'MongoTestServer.class');

/**
 * The MongoDB-protocol test server: mongo-java-server 1.47 (in memory, oplog on, so collection-level
 * change streams work). It reports wire version 8 (MongoDB 4.2), which is why the project uses the
 * mongodb driver 6.x line (7.x requires wire version 9). README lists what it lacks against a real mongod.
 */
export const mongodb: Service = {
  name: 'mongodb',
  envName: 'MONGODB_URL',
  endpoint: `mongodb://127.0.0.1:${PORT}/?directConnection=true`,
  ports: [PORT],
  managed: true,
  startTimeoutMs: 60_000,

  async prepare() {
    const lib = resolveJars('mongodb');
    if (existsSync(compiled) && statSync(compiled).mtimeMs >= statSync(source).mtimeMs) return;
    mkdirSync(classes, { recursive: true });
    const result = spawnSync('javac', ['-d', classes, '-cp', `${lib}/*`, source], { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new StackError(`mongodb: compiling the test server launcher needs a JDK (javac): ${(result.stderr || String(result.error)).trim().split('\n')[0]}`);
    }
  },

  start() {
    const lib = resolveJars('mongodb');
    startDetached(mongodb, 'java', ['-Xms128m', '-Xmx6g', '-cp', `${classes}:${lib}/*`, 'MongoTestServer', '127.0.0.1', String(PORT)]);
  },

  ready: () => portOpen(PORT),
};
