#!/usr/bin/env -S node --max-semi-space-size=4
// The `cdc` command: the compiled CLI in dist/ (`npm run build`; a packed or installed package has it).
// --max-semi-space-size=4 (MB; V8's default is 16): a pipeline makes short-lived objects by the million,
// and a smaller young generation keeps fewer of them around and promotes less. Measured on the 1M-row
// snapshot (docs/benchmarks.md): peak RSS 336 → 288 MB at the same or a better rate. It must be given at
// start (V8 sizes the heap then), hence the shebang; `node bin/cdc.js` runs without it.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('cdc: dist/ is missing: in a checkout, run `npm run build` first\n');
  process.exit(1);
}
process.exit(await cli.main(process.argv.slice(2)));
