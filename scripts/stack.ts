/**
 * The local stack without Docker: `npm run stack -- up|down|status [service...]`.
 * Kafka, the schema registry, MariaDB (binlog on) and the MongoDB test server are started from jars and
 * packages this script fetches; PostgreSQL (the machine's) is only checked. `up` is idempotent and
 * writes the endpoints to .stack/env. A name set in the environment (e.g. KAFKA_BROKERS) replaces
 * that service: it is neither started nor stopped, and its value goes to .stack/env.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { KAFKA_SECURE_NAMES } from './stack/env.ts';
import { ENV_FILE, STACK_DIR } from './stack/paths.ts';
import { ensurePortFree, requireJava, runningPid, stopService } from './stack/process.ts';
import { bringUp } from './stack/lifecycle.ts';
import type { Service } from './stack/service.ts';
import { kafka } from './stack/services/kafka.ts';
import { registry } from './stack/services/registry.ts';
import { mariadb } from './stack/services/mariadb.ts';
import { mongodb } from './stack/services/mongodb.ts';
import { postgres } from './stack/services/postgres.ts';
import { StackError } from './stack/stack-error.ts';

const SERVICES: readonly Service[] = [kafka, registry, mariadb, mongodb, postgres];

function external(service: Service): string | undefined {
  return process.env[service.envName] || undefined;
}

async function answers(service: Service): Promise<boolean> {
  return service.ready().catch(() => false);
}

async function up(services: readonly Service[]): Promise<void> {
  const toStart: Service[] = [];
  for (const service of services) {
    if (external(service) || !service.managed) continue;
    const pid = runningPid(service);
    if (pid !== undefined) {
      const why = service.outdated?.(pid);
      if (why === undefined) continue;
      // Services are machine-wide: one started from an older checkout is restarted from this one, once.
      console.log(`${service.name.padEnd(9)} restart: ${why}`);
      await stopService(service);
    }
    for (const port of service.ports) await ensurePortFree(service.name, port, service.envName);
    toStart.push(service);
  }
  if (toStart.length > 0) requireJava();
  // Fetching is sequential (Maven's cache is shared); starting and waiting run side by side.
  for (const service of toStart) await service.prepare();
  const started = Date.now();
  await Promise.all(
    services.map(async (service) => {
      const how = await upOrCheck(service, toStart.includes(service));
      console.log(`${service.name.padEnd(9)} up   ${(external(service) ?? service.endpoint).replace(/\/\/[^@/]*@/, '//')}  (${how})`);
    }),
  );
  if (toStart.length > 0) console.log(`started ${toStart.map((s) => s.name).join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  writeEnvFile();
}

async function upOrCheck(service: Service, start: boolean): Promise<string> {
  if (external(service) || !service.managed) {
    if (!(await answers(service))) {
      throw new StackError(service.notReadyHint ?? `${service.name} does not answer at ${service.envName}=${external(service)}`);
    }
    return external(service) ? `from ${service.envName}` : 'checked';
  }
  await bringUp(service, start);
  return start ? 'started' : 'already running';
}

function writeEnvFile(): void {
  mkdirSync(STACK_DIR, { recursive: true });
  const lines = SERVICES.map((service) => `${service.envName}=${external(service) ?? service.endpoint}`);
  const more: Record<string, string> = {};
  for (const service of SERVICES) if (service.managed && !external(service)) Object.assign(more, service.moreEnv?.());
  // As with the endpoints, a name set in the environment wins (a secured Kafka of one's own).
  for (const name of KAFKA_SECURE_NAMES) if (process.env[name]) more[name] = process.env[name];
  lines.push(...Object.entries(more).map(([name, value]) => `${name}=${value}`));
  writeFileSync(ENV_FILE, `${lines.join('\n')}\n`, { mode: 0o600 });
}

async function down(services: readonly Service[]): Promise<void> {
  await Promise.all(
    services
      .filter((service) => service.managed && !external(service))
      .map(async (service) => {
        const stopped = await stopService(service);
        console.log(`${service.name.padEnd(9)} ${stopped ? 'stopped' : 'was not running'}`);
      }),
  );
}

async function status(services: readonly Service[]): Promise<boolean> {
  let allUp = true;
  for (const service of services) {
    const pid = service.managed && !external(service) ? runningPid(service) : undefined;
    const ok = await answers(service);
    allUp &&= ok;
    const owner = external(service) ? `from ${service.envName}` : service.managed ? (pid ? `pid ${pid}` : 'not started') : 'machine service';
    console.log(`${service.name.padEnd(9)} ${ok ? 'up  ' : 'down'} ${service.endpoint.replace(/\/\/[^@/]*@/, '//')}  (${owner})`);
  }
  return allUp;
}

function select(names: string[]): Service[] {
  if (names.length === 0) return [...SERVICES];
  return names.map((name) => {
    const service = SERVICES.find((s) => s.name === name);
    if (!service) throw new StackError(`unknown service '${name}': choose from ${SERVICES.map((s) => s.name).join(', ')}`);
    return service;
  });
}

async function main(): Promise<number> {
  const [command, ...names] = process.argv.slice(2);
  const services = select(names);
  switch (command) {
    case 'up':
      await up(services);
      return 0;
    case 'down':
      await down(services);
      return 0;
    case 'status':
      return (await status(services)) ? 0 : 1;
    default:
      console.error('usage: npm run stack -- up|down|status [kafka|registry|mariadb|mongodb|postgres ...]');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackError) console.error(`stack: ${error.message}`);
    else console.error('stack: unexpected failure:', error);
    process.exit(1);
  },
);
