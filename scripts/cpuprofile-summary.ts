/**
 * The top frames of a V8 .cpuprofile by self time (summed per function and location), with the
 * garbage collector, idle time and program time as the profiler names them:
 *
 *   node --import tsx scripts/cpuprofile-summary.ts <file.cpuprofile> [--top 30]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
if (positionals.length !== 1) throw new Error('usage: cpuprofile-summary.ts <file.cpuprofile> [--top 30]');
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;

const frameOf = new Map<number, string>();
for (const { id, callFrame } of profile.nodes) {
  const url = callFrame.url.replace(/^file:\/\//, '');
  const where = url === '' ? '' : ` ${url.startsWith('/') ? relative(process.cwd(), url) : url}:${callFrame.lineNumber + 1}`;
  frameOf.set(id, `${callFrame.functionName || '(anonymous)'}${where}`);
}
// A sample's time is the delta that follows it.
const selfMicros = new Map<string, number>();
let total = 0;
profile.samples.forEach((node, i) => {
  const micros = profile.timeDeltas[i + 1] ?? 0;
  const frame = frameOf.get(node)!;
  selfMicros.set(frame, (selfMicros.get(frame) ?? 0) + micros);
  total += micros;
});
const busy = total - (selfMicros.get('(idle)') ?? 0);
console.log(`${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle; self time as a share of the time not idle:`);
for (const [frame, micros] of [...selfMicros].filter(([frame]) => frame !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${((100 * micros) / busy).toFixed(1).padStart(5)} %  ${frame}`);
}
