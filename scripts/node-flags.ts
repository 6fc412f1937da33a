/**
 * The V8 flags bin/cdc.js starts Node with (its shebang; README "The cdc command"): the benchmarks and the
 * tests run our code as the `cdc` command runs it. Node 22+ sizes V8's young generation larger by default:
 * without the flag, the 2M-event memory test peaks at 433 MB on Node 24 against 236 MB with it.
 */
export const CDC_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=100'];
