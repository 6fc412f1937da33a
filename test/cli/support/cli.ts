import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stackEnv } from '../../support/stack-env.ts';

/** This checkout's `cdc` command. */
export const BIN = fileURLToPath(new URL('../../../bin/cdc.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An address where nothing listens: a config naming it fails before anything connects, or as unreachable. */
export const CLOSED = '127.0.0.1:1';

/** A valid config whose servers are all at CLOSED (passwords `secret`): for errors that stop before connecting. */
export function closedConfig(pipeline: string): string {
  return `pipeline: ${pipeline}
kafka: { brokers: ['${CLOSED}'] }
schemaRegistry: { url: 'http://${CLOSED}/apis/ccompat/v7' }
sources:
  - { name: shop, type: mysql, url: 'mysql://u:secret@${CLOSED}/shop' }
sinks:
  - { name: replica, type: mysql, url: 'mysql://u:secret@${CLOSED}/replica' }
`;
}

/** Names as `cdc` prints them with the stack's MariaDB in the config: it masks the config's passwords wherever they appear, and the stack's is `cdc`. */
export function shown(text: string): string {
  const password = decodeURIComponent(new URL(stackEnv().MYSQL_URL).password);
  return password === '' ? text : text.replaceAll(password, '***');
}

/** Writes a config file into a fresh temporary directory; returns its path. */
export function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cdc-cli-')), 'pipeline.yaml');
  writeFileSync(file, text);
  return file;
}

/** Runs `cdc <args>` as a user would (bin/cdc.js in a child process) to its end. */
export function cdc(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `cdc run` in the background: its JSON log lines as they come, and a way to wait for one. */
export class BackgroundRun {
  readonly logs: Array<Record<string, unknown>> = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stdoutText = '';
  private stderrText = '';
  private readonly listeners = new Set<() => void>();

  /** `bin`: the `cdc` script to run (an installed package's, say); this checkout's by default. */
  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}, bin = BIN) {
    this.child = spawn(process.execPath, [bin, 'run', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderrText += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.stdoutText += `${line}\n`;
      try {
        this.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line: kept in `output` only.
      }
      for (const listener of this.listeners) listener();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const listener of this.listeners) listener();
    });
  }

  /** Everything it wrote, stdout then stderr. */
  get output(): string {
    return `${this.stdoutText}${this.stderrText}`;
  }

  /** The first log line `match` accepts; rejects when the process exits first or after `deadlineMs`. */
  waitForLog(what: string, match: (line: Record<string, unknown>) => boolean, deadlineMs = 90_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let exited = false;
      void this.exited.then(() => (exited = true));
      const timer = setTimeout(() => finish(new Error(`never logged: ${what}\n${this.output}`)), deadlineMs);
      const finish = (outcome: Error | Record<string, unknown>) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const listener = () => {
        const line = this.logs.find(match);
        if (line) finish(line);
        else if (exited) finish(new Error(`exited before logging: ${what}\n${this.output}`));
      };
      this.listeners.add(listener);
      listener();
    });
  }

  /** SIGTERM, then the exit code of the clean shutdown. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** The process id (what the process puts in records that name their writer). */
  get pid(): number | undefined {
    return this.child.pid;
  }
}
