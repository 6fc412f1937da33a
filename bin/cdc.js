#!/usr/bin/env node
// The `cdc` command. The project ships TypeScript sources and runs them through tsx's loader, so a
// checkout needs no build step; see README "The cdc command".
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exit(await main(process.argv.slice(2)));
