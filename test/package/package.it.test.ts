/**
 * rxcdc as a user gets it: `npm pack`, the tarball installed into a fresh project with no TypeScript
 * loader, then what a user does with it. A program and the README's library example type-checked against
 * the public entries only; a JavaScript program running a topology with a custom operator on the memory
 * transport; the installed `cdc` running a pipeline whose config loads the user's operator module, against
 * the local stack. The installed KafkaJS must be the version the fast path was written for, with the fast
 * path active.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/stack/paths.ts';
import { mysqlPipelineConfig, runPipeline } from '../connectors/mysql/cli-pipeline.ts';
import { withKafkaPipeline } from '../connectors/mysql/kafka-pipeline.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';
import { scratchMariaDb } from '../connectors/support/targets.ts';
import { eventually } from '../topology/support/eventually.ts';

const FIXTURES = join(ROOT, 'test', 'package', 'fixtures');
const versionOf = (pkg: string, root = ROOT) => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** Runs a command to its end; its stdout. A failure shows the command's own output. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
}

/** Packs this checkout and installs the tarball, with the compiler a TypeScript user has, into a new project. */
function installPackedPackage(): string {
  const work = mkdtempSync(join(tmpdir(), 'rxcdc-package-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]!.files.map((file) => file.path);
  assert.deepEqual(
    files.filter((path) => !/^(dist\/.*\.(js|js\.map|d\.ts)|bin\/cdc\.js|docs\/[^/]+\.(md|json)|package\.json|README\.md)$/.test(path)),
    [],
    'the package holds only compiled code, the launcher, docs and its manifest (no tests, scripts or sources)',
  );
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0]!.filename), `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`], app);
  for (const fixture of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, fixture), join(app, fixture));
  return app;
}

test('the packed package installs, type-checks, runs with plain Node, and its cdc runs a user operator from the config', { timeout: 600_000 }, async () => {
  const app = installPackedPackage();
  try {
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'no TypeScript loader is installed with the package');
    assert.equal(versionOf('kafkajs', app), '2.2.4', 'the KafkaJS the fast path was written for');

    // A TypeScript user's program, and the README's library example, checked against the public entries' declarations.
    writeFileSync(join(app, 'readme.ts'), readmeLibraryExample());
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] }, files: ['app.ts', 'readme.ts'] }),
    );
    run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app);

    // A JavaScript user's topology with a custom operator, on the memory transport.
    const memory = JSON.parse(run(process.execPath, ['memory.mjs'], app)) as { names: string[]; unit: string[]; fastPath: { active: boolean; reason?: string } };
    assert.deepEqual(memory.names, ['ADA', 'GRACE']);
    assert.deepEqual(memory.unit, ['LIN']);
    assert.deepEqual(memory.fastPath, { active: true }, 'the KafkaJS fast path is active in an installed package');

    await runInstalledCdc(app);
  } finally {
    rmSync(join(app, '..'), { recursive: true, force: true });
  }
});

/** The README's first TypeScript example under "Use it as a library", as a user would paste it. */
function readmeLibraryExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = /## Use it as a library[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(example, 'README.md has a TypeScript example under "Use it as a library"');
  return example[1]!;
}

/** The installed `cdc` runs MariaDB → Kafka → MariaDB with the user's operator: the target gets its effect. */
async function runInstalledCdc(app: string): Promise<void> {
  await withSourceDatabase(async ({ db, admin }) => {
    await withKafkaPipeline('package', async (pipeline) => {
      const target = await scratchMariaDb('package');
      const operators = `  - { name: uppercase-name, module: '${join(app, 'uppercase.mjs')}', options: { column: name } }\n`;
      const { file, remove } = mysqlPipelineConfig({ pipeline: pipeline.id, db, targetUrl: target.url, chunkSize: 100, operators });
      await admin.query(`CREATE TABLE \`${db}\`.people (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL)`);
      await admin.query(`INSERT INTO \`${db}\`.people VALUES (1, 'ada'), (2, 'grace')`);
      const cdc = runPipeline(file, join(app, 'node_modules', 'rxcdc', 'bin', 'cdc.js'));
      try {
        await cdc.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
        await admin.query(`INSERT INTO \`${db}\`.people VALUES (3, 'lin')`);
        const names = async () => {
          const [rows] = (await target.connection.query(`SELECT name FROM \`${target.name}\`.people ORDER BY id`).catch(() => [[]])) as unknown as [Array<{ name: string }>];
          return rows.map((row) => row.name);
        };
        await eventually('the three rows arrive in the target', async () => (await names()).length === 3, 120_000);
        assert.deepEqual(await names(), ['ADA', 'GRACE', 'LIN'], 'the operator from the config ran on snapshot and streamed rows');
        assert.equal(await cdc.stop(), 0, cdc.output);
        assert.doesNotMatch(cdc.output, /fast path off/, 'the installed cdc runs the KafkaJS fast path');
      } finally {
        cdc.kill();
        await cdc.exited;
        await target.drop();
        remove();
      }
    });
  });
}
