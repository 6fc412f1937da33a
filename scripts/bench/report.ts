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

const ratio = (result: ScenarioResult) => (result.debezium ? `${(result.ours.perSecond / result.debezium.perSecond).toFixed(2)}×` : '-');

export function printTable(results: ScenarioResult[]): void {
  const header = ['scenario', 'size', 'ours /s', 'Debezium /s', 'ratio', 'ours peak RSS', 'Debezium peak RSS'];
  const rows = results.map((result) => [
    result.scenario,
    String(result.ours.count),
    String(result.ours.perSecond),
    result.debezium ? String(result.debezium.perSecond) : 'not run',
    ratio(result),
    `${result.ours.peakRssMb} MB`,
    result.debezium ? `${result.debezium.peakRssMb} MB` : '-',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width, column) => (column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  for (const result of results) {
    console.log(`- ${result.scenario}: ${result.what}${result.notRun ? `; Debezium not run: ${result.notRun}` : ''}`);
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
