/**
 * Operators named in the config: loaded from the user's modules, placed in their stage (as `describe`
 * shows), and every way a module can be wrong is one line with exit 2, before anything connects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cdc, closedConfig, writeConfig } from './support/cli.ts';

const base = closedConfig('ops');

/** A config with `operators` (YAML lines) beside modules written into its folder. */
function configWith(operators: string, modules: Record<string, string> = {}, text = base): string {
  const file = writeConfig(`${text}operators:\n${operators}`);
  for (const [name, source] of Object.entries(modules)) writeFileSync(join(dirname(file), name), source);
  return file;
}

// An RxJS operator is a function of an Observable: these modules need no rxjs of their own to resolve
// from a temporary folder (the package test runs real rxjs operators from an installed project).
const UPPERCASE = `export const uppercase = ({ column }) => (events) => events;
export default () => (events) => events;
`;

test('operators from the config are placed in their stage, in order, as describe shows', async () => {
  const file = configWith(
    `  - { name: upper-name, module: ./upper.mjs, export: uppercase, options: { column: name } }
  - { name: after, module: ./upper.mjs, stage: repartition, onError: dead-letter }
`,
    { 'upper.mjs': UPPERCASE },
  );
  const result = await cdc(['describe', '--config', file]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  const source = lines.indexOf('  Sub-topology 0: source');
  const repartition = lines.findIndex((line) => line.startsWith('  Sub-topology 1: repartition'));
  assert.ok(lines.indexOf('    --- Processor: upper-name') > source && lines.indexOf('    --- Processor: upper-name') < repartition, result.stdout);
  assert.ok(lines.indexOf('    --- Processor: after') > repartition, result.stdout);
});

test('a wrong operator is one line naming its path, exit 2, before anything connects', async () => {
  const cases: Array<[string, string, Record<string, string>, RegExp]> = [
    ['missing module', '  - { name: a, module: ./nope.mjs }\n', {}, /^cdc: operators\[0\]\.module: cannot find \.\/nope\.mjs \(looked for .*nope\.mjs\)/],
    ['missing package', '  - { name: a, module: no-such-operator-package }\n', {}, /^cdc: operators\[0\]\.module: cannot find package no-such-operator-package from /],
    ['missing export', '  - { name: a, module: ./upper.mjs, export: lower }\n', { 'upper.mjs': UPPERCASE }, /^cdc: operators\[0\]\.export: \.\/upper\.mjs has no export "lower" \(it exports: default, uppercase\)/],
    ['export not a function', '  - { name: a, module: ./value.mjs }\n', { 'value.mjs': 'export default 42;\n' }, /^cdc: operators\[0\]\.export: "default" of \.\/value\.mjs is number, expected a function/],
    ['factory returns no operator', '  - { name: a, module: ./bad.mjs }\n', { 'bad.mjs': 'export default () => ({});\n' }, /^cdc: operators\[0\]: "default" of \.\/bad\.mjs returned object, expected an RxJS operator/],
    ['factory refuses its options', '  - { name: a, module: ./strict.mjs }\n', { 'strict.mjs': "export default (o) => { if (!o.column) throw new Error('column is required'); };\n" }, /^cdc: operators\[0\]\.options: \.\/strict\.mjs refused its options: column is required/],
    ['syntax error', '  - { name: a, module: ./broken.mjs }\n', { 'broken.mjs': 'export default (\n' }, /^cdc: operators\[0\]\.module: cannot load \.\/broken\.mjs: /],
    ['its own import missing', '  - { name: a, module: ./needs.mjs }\n', { 'needs.mjs': "import 'no-such-dependency';\n" }, /^cdc: operators\[0\]\.module: cannot load \.\/needs\.mjs: Cannot find package 'no-such-dependency'/],
    ['unknown stage', '  - { name: a, module: ./upper.mjs, stage: sink }\n', { 'upper.mjs': UPPERCASE }, /^cdc: .*pipeline\.yaml: operators\[0\]\.stage: /],
    ['routing after repartition', '  - { name: a, module: ./upper.mjs, stage: repartition, topics: [x] }\n', { 'upper.mjs': UPPERCASE }, /^cdc: .*: operators\[0\]\.topics: routing to topics happens before the change topics/],
  ];
  for (const [what, operators, modules, pattern] of cases) {
    for (const command of ['describe', 'run']) {
      const result = await cdc([command, '--config', configWith(operators, modules)]);
      assert.equal(result.code, 2, `${what} (${command}): ${result.stderr}`);
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `${what}: one line, got:\n${result.stderr}`);
      assert.match(lines[0]!, pattern, what);
      assert.equal(result.stdout, '', `${what}: nothing started`);
    }
  }
  const captureOnly = base.replace(/sinks:\n.*\n/, '');
  const noRepartition = await cdc(['describe', '--config', configWith('  - { name: a, module: ./upper.mjs, stage: repartition }\n', { 'upper.mjs': UPPERCASE }, captureOnly)]);
  assert.equal(noRepartition.code, 2);
  assert.match(noRepartition.stderr, /operators\[0\]\.stage: 'repartition' needs a repartition stage/);
});

test('a TypeScript operator module runs where Node strips types, and is one clear line where it does not', async () => {
  const file = configWith('  - { name: typed, module: ./typed.ts }\n', {
    'typed.ts': 'export default (_options: Record<string, unknown>) => <T>(events: T): T => events;\n',
  });
  const result = await cdc(['describe', '--config', file]);
  if ((process.features as { typescript?: unknown }).typescript) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /--- Processor: typed/);
  } else {
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^cdc: operators\[0\]\.module: \.\/typed\.ts is TypeScript, which Node v\d+\.\d+\.\d+ cannot run: use Node 22\.18\+ or 24\+/);
  }
});
