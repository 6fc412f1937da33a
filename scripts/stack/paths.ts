import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * The repo root, and `.stack/` beneath it: git-ignored, holds jars, data, logs, pid files and `env`. The
 * nearest directory up with a package.json, so the benchmarks' compiled copy (.bench-build/) finds it too.
 */
export const ROOT = repoRoot(dirname(fileURLToPath(import.meta.url)));

function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: run the scripts from a checkout of the repository`);
  }
}
/** STACK_HOME moves the whole stack elsewhere (the stack's own tests use a scratch one). */
export const STACK_DIR = process.env.STACK_HOME ?? join(ROOT, '.stack');
export const LOG_DIR = join(STACK_DIR, 'logs');
export const ENV_FILE = join(STACK_DIR, 'env');
export const MAVEN_DIR = join(ROOT, 'scripts', 'stack', 'maven');

/**
 * Pid files live machine-wide, keyed by service and port: a second checkout on the same machine (CI's
 * fresh clone) finds the services another checkout started and uses them instead of failing on their ports.
 */
export const RUN_DIR = process.env.STACK_RUN_DIR ?? join(tmpdir(), `rxcdc-stack-${process.getuid?.() ?? 'user'}`);

export function serviceDir(name: string): string {
  return join(STACK_DIR, name);
}
