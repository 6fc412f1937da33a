/**
 * `npm test`: brings the local stack up (idempotent: seconds when it already runs), builds dist/ (the CLI
 * tests run the `cdc` binary as installed, on compiled JavaScript), then type check, lint, and every test
 * under test/ with node's test runner. `--unit` runs only the tests that need no
 * server (files not named *.it.test.ts) and starts nothing. Extra arguments select test files.
 * Browser tests (*.browser.it.test.ts) drive Debian's chromium: when one is selected and /usr/bin/chromium
 * is missing, it is installed with apt-get first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './stack/paths.ts';
import { CDC_NODE_FLAGS } from './node-flags.ts';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const selected = args.filter((a) => !a.startsWith('--'));

function run(label: string, command: string, commandArgs: string[]): void {
  console.log(`\n== ${label}`);
  const result = spawnSync(command, commandArgs, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${label} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium for the browser tests, installed as CI machines need it (root, apt-get). */
function installChromium(): void {
  console.log(`\n== install chromium (${CHROMIUM} is missing)`);
  const result = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y chromium'], { stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(CHROMIUM)) {
    console.error(`\nchromium is missing at ${CHROMIUM} and apt-get could not install it (exit ${result.status ?? result.signal}): run 'apt-get install -y chromium' as root, or select no *.browser.it.test.ts file`);
    process.exit(1);
  }
}

const npx = join(ROOT, 'node_modules', '.bin');
if (!unitOnly) {
  // The MongoDB test server keeps its oplog in memory and never truncates it, so every run's writes
  // would pile up in its heap: each test run starts it afresh (about two seconds; it holds nothing to keep).
  if (!process.env.MONGODB_URL) run('restart the MongoDB test server', process.execPath, [join(npx, 'tsx'), 'scripts/stack.ts', 'down', 'mongodb']);
  run('stack up', process.execPath, [join(npx, 'tsx'), 'scripts/stack.ts', 'up']);
}
run('build', join(npx, 'tsc'), ['-p', 'tsconfig.build.json']);
if (selected.length === 0) {
  run('type check', join(npx, 'tsc'), ['--noEmit']);
  run('lint', join(npx, 'eslint'), ['.']);
}
const files = (selected.length > 0 ? selected : testFiles(join(ROOT, 'test')).sort()).filter(
  (file) => !unitOnly || !file.endsWith('.it.test.ts'),
);
if (files.some((file) => file.endsWith('.browser.it.test.ts')) && !existsSync(CHROMIUM)) installChromium();
// With cdc's V8 flags, which the test runner passes on to each file's process.
run(`tests (${files.length} files)`, process.execPath, [...CDC_NODE_FLAGS, '--import', 'tsx', '--test', '--test-concurrency=2', ...files]);
