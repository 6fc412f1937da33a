#!/usr/bin/env -S node --max-semi-space-size=4
// The `cdc` command. The project ships TypeScript sources and runs them through tsx's loader, so a
// checkout needs no build step; see README "The cdc command".
// --max-semi-space-size=4 (MB; V8's default is 16): a pipeline makes short-lived objects by the million,
// and a smaller young generation keeps fewer of them around and promotes less. Measured on the 1M-row
// snapshot (docs/benchmarks.md): peak RSS 336 → 288 MB at the same or a better rate. It must be given at
// start (V8 sizes the heap then), hence the shebang; `node bin/cdc.js` runs without it.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exit(await main(process.argv.slice(2)));
