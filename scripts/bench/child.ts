/**
 * Runs one of the existing benchmark scripts as a child process and measures its peak resident memory:
 * each of our scenarios then runs in a process of its own, so its peak is its own and not the orchestrator's.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../stack/paths.ts';
import { PeakRss } from './peak-rss.ts';
import { CDC_NODE_FLAGS } from '../node-flags.ts';

export interface ChildRun {
  stdout: string;
  peakRssMb: number;
}


/**
 * `node --import tsx scripts/<script> ...args`, its stdout echoed and kept. Node itself rather than the
 * `tsx` launcher, which would fork a second process: the sampled pid is then the one doing the work.
 */
export function runScript(script: string, args: string[]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CDC_NODE_FLAGS, '--import', 'tsx', join(ROOT, 'scripts', script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
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
