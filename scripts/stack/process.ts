import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { LOG_DIR, RUN_DIR } from './paths.ts';
import { StackError } from './stack-error.ts';

/** A service instance is its name and its first port. */
export interface Instance {
  readonly name: string;
  readonly ports: readonly number[];
}

/** Starts a long-running service detached from this process, logging to .stack/logs/<name>.log. */
export function startDetached(instance: Instance, command: string, args: string[], cwd?: string): number {
  const { name } = instance;
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(join(LOG_DIR, `${name}.log`), 'a');
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', log, log] });
  if (child.pid === undefined) throw new StackError(`${name}: could not start ${command}`);
  child.unref();
  writeFileSync(pidFile(instance), String(child.pid));
  return child.pid;
}

function pidFile(instance: Instance): string {
  mkdirSync(RUN_DIR, { recursive: true });
  return join(RUN_DIR, `${instance.name}-${instance.ports[0]}.pid`);
}

/** The pid of a service this stack started (from any checkout) and that still runs, else undefined. */
export function runningPid(instance: Instance): number | undefined {
  const file = pidFile(instance);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The arguments a running process was started with (Linux's /proc, else `ps`); undefined when they cannot be read. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch {
    const result = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim().split(/\s+/) : undefined;
  }
}

/** Stops a service this stack started (SIGTERM, then SIGKILL after `graceMs`); others are never touched. */
export async function stopService(instance: Instance, graceMs = 15_000): Promise<boolean> {
  const pid = runningPid(instance);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && runningPid(instance) !== undefined) await sleep(200);
  if (runningPid(instance) !== undefined) process.kill(pid, 'SIGKILL');
  while (runningPid(instance) !== undefined) await sleep(100);
  rmSync(pidFile(instance), { force: true });
  return true;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Fails with a clear line when a port the stack needs is held by a process the stack did not start. */
export async function ensurePortFree(name: string, port: number, envName: string): Promise<void> {
  if (await portOpen(port)) {
    throw new StackError(
      `${name}: port ${port} on 127.0.0.1 is taken by another process: stop it, or export ${envName} to use a ${name} that already runs`,
    );
  }
}

/** Polls `probe` until it answers true; a dead process or the deadline ends the wait with the log's path. */
export async function waitUntilReady(instance: Instance, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const { name } = instance;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (runningPid(instance) === undefined) {
      throw new StackError(`${name} exited while starting: see ${join(LOG_DIR, `${name}.log`)}`);
    }
    await sleep(250);
  }
  throw new StackError(`${name} did not answer within ${timeoutMs / 1000} s: see ${join(LOG_DIR, `${name}.log`)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Java 17+ runs Kafka, the registry and the MongoDB test server. */
export function requireJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const major = /version "(\d+)/.exec(result.stderr ?? '')?.[1];
  if (result.error || major === undefined) {
    throw new StackError('java was not found: install Java 17 or newer (apt-get install openjdk-17-jre-headless) and run again');
  }
  if (Number(major) < 17) {
    throw new StackError(`java ${major} is too old: Kafka 3.9 and Apicurio 3.0 need Java 17 or newer (set JAVA_HOME or PATH)`);
  }
}
