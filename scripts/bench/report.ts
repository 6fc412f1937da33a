/** The benchmark's results: one table on stdout, and the same as JSON in bench-results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../stack/paths.ts';
import type { Latency } from './change-load.ts';

export interface Figure {
  /** Rows, events or documents the run moved. */
  count: number;
  seconds: number;
  perSecond: number;
  /** Peak resident memory of the process that did the work (ours: the Node process; Debezium: the Connect JVM). */
  peakRssMb: number;
  /** Commit → visible latencies at a fixed rate (end-to-end scenario). */
  latency?: Latency;
}

export interface ScenarioResult {
  scenario: string;
  /** What `count` counts and what the scenario measures, in a few words. */
  what: string;
  ours: Figure;
  /** Absent where the scenario has no Debezium counterpart; `notRun` says why. */
  debezium?: Figure;
  notRun?: string;
}

/** ours ÷ Debezium, for a rate (higher is ours faster) or a latency (lower is ours quicker). */
const ratio = (ours: number, debezium: number | undefined) => (debezium === undefined ? '-' : `${(ours / debezium).toFixed(2)}×`);

const PERCENTILES = ['p50', 'p95', 'p99'] as const;

/** One line per figure: the rate, then, where measured, the latency percentiles (the same run: size and RSS are the rate's line's). */
function tableRows(result: ScenarioResult): string[][] {
  const { ours, debezium } = result;
  const rows = [
    [
      result.scenario,
      String(ours.count),
      `${ours.perSecond}/s`,
      debezium ? `${debezium.perSecond}/s` : 'not run',
      ratio(ours.perSecond, debezium?.perSecond),
      `${ours.peakRssMb} MB`,
      debezium ? `${debezium.peakRssMb} MB` : '-',
    ],
  ];
  if (ours.latency) {
    for (const p of PERCENTILES) {
      const theirs = debezium?.latency?.[p];
      rows.push([`  latency ${p}`, '', `${ours.latency[p]} ms`, theirs === undefined ? 'not run' : `${theirs} ms`, ratio(ours.latency[p], theirs), '', '']);
    }
  }
  return rows;
}

/** What each run did beyond the table: the latency runs' reached rates and samples. */
function latencyNote({ ours, debezium }: ScenarioResult): string {
  if (!ours.latency) return '';
  const side = (name: string, latency: Latency | undefined) => (latency ? `${name} ${latency.ratePerSecond} rows/s reached, ${latency.samples} markers, max ${latency.max} ms` : `${name} not run`);
  return `; latency: ${side('ours', ours.latency)}; ${side('Debezium', debezium?.latency)}`;
}

export function printTable(results: ScenarioResult[]): void {
  const header = ['scenario', 'size', 'ours', 'Debezium', 'ratio', 'ours peak RSS', 'Debezium peak RSS'];
  const rows = results.flatMap(tableRows);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('- ratio: ours ÷ Debezium (for rates above 1 is ours faster, for latencies below 1 is ours quicker)');
  for (const result of results) {
    console.log(`- ${result.scenario}: ${result.what}${latencyNote(result)}${result.notRun ? `; Debezium not run: ${result.notRun}` : ''}`);
  }
}

/** bench-results/bench-<time>.json (git-ignored): the results with the machine they ran on. */
export function writeJson(results: ScenarioResult[], options: Record<string, unknown>): string {
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = join(dir, `bench-${at.replace(/[:.]/g, '-')}.json`);
  const machine = { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), freeMemoryGb: Math.round(freemem() / 2 ** 30), loadAverage: loadavg(), node: process.version };
  writeFileSync(file, `${JSON.stringify({ at, machine, options, results }, null, 2)}\n`);
  return file;
}
