/**
 * Runs one of the existing benchmark scripts as a child process and measures its peak resident memory:
 * each of our scenarios then runs in a process of its own, so its peak is its own and not the orchestrator's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../stack/paths.ts';
import { PeakRss } from './peak-rss.ts';
import { CDC_NODE_FLAGS } from '../node-flags.ts';

export interface ChildRun {
  stdout: string;
  peakRssMb: number;
}

const BUILD_DIR = join(ROOT, '.bench-build');

/**
 * Compiles the scripts and the product into .bench-build/ (tsconfig.bench.json), which runScript runs: our
 * side is measured as compiled JavaScript, as `cdc` runs, not under tsx, whose transpiled modules and
 * source maps hold about 44 MB of resident memory of their own.
 */
export function buildScripts(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling the benchmark scripts (tsc -p tsconfig.bench.json) failed:\n${tsc.stdout}${tsc.stderr}`);
}

/**
 * `node <cdc's V8 flags> .bench-build/scripts/<script>.js ...args` (after buildScripts), its stdout echoed
 * and kept. Node itself, no launcher that would fork a second process: the sampled pid is the one doing the work.
 */
export function runScript(script: string, args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const compiled = join(BUILD_DIR, 'scripts', script.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`${compiled} is missing: buildScripts() compiles the benchmark scripts first`);
    const child = spawn(process.execPath, [...CDC_NODE_FLAGS, compiled, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const rss = new PeakRss(child.pid!);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
      rss.sample();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const peakRssMb = rss.stop();
      if (code === 0) resolve({ stdout, peakRssMb });
      else reject(new Error(`${script} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}
