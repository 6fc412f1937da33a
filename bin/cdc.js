#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=100
// The `cdc` command: the compiled CLI in dist/ (`npm run build`; a packed or installed package has it).
// V8 flags (scripts/node-flags.ts holds the same, for the tests and benchmarks), measured in
// docs/benchmarks.md ("Peak memory: V8's heap growth"):
// --max-semi-space-size=4 (MB; V8's default is 16): a pipeline makes short-lived objects by the million,
// and a smaller young generation keeps fewer of them around and promotes less (1M-row snapshot: peak RSS
// 336 → 288 MB at the same or a better rate).
// --heap-growing-percent=100: the old generation may grow to twice what the last full collection kept
// before the next one, where V8 otherwise allows up to four times. Rows held across a round trip (a batch
// awaiting its acks or its SQL) die old, so the old generation is mostly garbage that V8 lets pile up:
// peak RSS 280 → 198 MB (snapshot), 387 → 252 MB (apply), 430 → 292 MB (e2e) for about a tenth more CPU.
// Both must be given at start (V8 sizes the heap then), hence the shebang; `node bin/cdc.js` runs without them.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('cdc: dist/ is missing: in a checkout, run `npm run build` first\n');
  process.exit(1);
}
process.exit(await cli.main(process.argv.slice(2)));
