/**
 * Our figures, from the existing benchmark scripts run as child processes (their logic stays theirs): the
 * lines they print are parsed here, so a change to their output fails loudly in `parse` rather than
 * producing a wrong table.
 */
import { randomUUID } from 'node:crypto';
import { runScript } from './child.ts';
import type { E2eLoad } from './e2e.ts';
import type { Figure } from './report.ts';

/** The first match of `pattern` in a script's output; a missing line is an error naming the pattern. */
function parse(stdout: string, script: string, pattern: RegExp): RegExpExecArray {
  const match = pattern.exec(stdout);
  if (!match) throw new Error(`${script} printed no line matching ${pattern}: its output changed, update scripts/bench/ours.ts`);
  return match;
}

/** A row of a `| what | s | rows/s | CPU µs/row |` table as bench-mysql-source.ts prints it. */
const tableRow = (what: string) => new RegExp(`^\\| ${what}\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*(\\d+)\\s*\\|\\s*[\\d.]+\\s*\\|$`, 'm');

/**
 * Snapshot and binlog streaming of the 10-column table into Kafka (Avro, capture only), one process for
 * both: the snapshot's peak memory is the process's high-water mark when it ends, streaming's the whole run's.
 */
export async function oursMySql(rows: number): Promise<{ snapshot: Figure; streaming: Figure }> {
  const script = 'bench-mysql-source.ts';
  const { stdout, peakRssMb } = await runScript(script, ['--rows', String(rows)]);
  const figure = (what: string, peak: number): Figure => {
    const [, seconds, perSecond] = parse(stdout, script, tableRow(what));
    return { count: rows, seconds: Number(seconds), perSecond: Number(perSecond), peakRssMb: peak };
  };
  // The snapshot runs first: the script's own high-water mark after it is the snapshot's peak.
  const [, snapshotPeak] = parse(stdout, script, /^peak RSS through the snapshot into Kafka: (\d+) MB$/m);
  return {
    snapshot: figure('snapshot into Kafka \\(Avro, registry\\)', Number(snapshotPeak)),
    streaming: figure('streaming into Kafka \\(Avro, registry\\)', peakRssMb),
  };
}

/**
 * `rows` snapshot events of the 10-column table applied from our 8-partition repartition topic into an
 * empty MariaDB table (scripts/bench/apply-wide.ts): filled and applied in two processes, the second's peak
 * memory being the sink's.
 */
export async function oursApply(rows: number): Promise<Figure> {
  const script = 'bench/apply-wide.ts';
  const run = randomUUID().slice(0, 8).replace(/-/g, '');
  try {
    await runScript(script, ['fill', '--rows', String(rows), '--run', run]);
    const { stdout, peakRssMb } = await runScript(script, ['apply', '--rows', String(rows), '--run', run]);
    const [, count, seconds, perSecond] = parse(stdout, script, /^apply: (\d+) rows in ([\d.]+) s: (\d+) rows\/s, [\d.]+ µs of this process's CPU per row$/m);
    return { count: Number(count), seconds: Number(seconds), perSecond: Number(perSecond), peakRssMb };
  } finally {
    await runScript(script, ['clean', '--run', run]);
  }
}

/** MariaDB → our pipeline (repartition 8) → MariaDB: sustained rows/s from a backlog and latency at a fixed rate. */
export async function oursE2e(load: E2eLoad): Promise<Figure> {
  const script = 'bench-streaming-e2e.ts';
  const { stdout, peakRssMb } = await runScript(script, ['--changes', String(load.changes), '--rate', String(load.rate), '--seconds', String(load.seconds)]);
  const [, count, seconds, perSecond] = parse(stdout, script, /^sustained: a backlog of (\d+) row changes .* applied ([\d.]+) s after the restart: (\d+) rows\/s end to end, [\d.]+ µs of this process's CPU per row$/m);
  const [, rate, samples, p50, p95, p99, max] = parse(stdout, script, /^latency at (\d+) rows\/s .*, (\d+) markers: p50 (\d+) ms, p95 (\d+) ms, p99 (\d+) ms, max (\d+) ms$/m);
  const latency = { ratePerSecond: Number(rate), samples: Number(samples), p50: Number(p50), p95: Number(p95), p99: Number(p99), max: Number(max) };
  return { count: Number(count), seconds: Number(seconds), perSecond: Number(perSecond), peakRssMb, latency };
}

/** MongoDB snapshot and change-stream inserts into Kafka through the topology (`--kafka`). */
export async function oursMongo(documents: number): Promise<{ snapshot: Figure; streaming: Figure }> {
  const script = 'bench-mongodb-source.ts';
  const { stdout, peakRssMb } = await runScript(script, [String(documents), '--kafka']);
  const figure = (phase: string): Figure => {
    const row = new RegExp(`^\\| ${phase}\\s*\\|\\s*(\\d+)\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*(\\d+|too few)\\s*\\|$`, 'm');
    const [, count, seconds, , perSecond] = parse(stdout, script, row);
    // Below half a second of flow the script declines a rate: fall back to the whole run's.
    const rate = perSecond === 'too few' ? Math.round(Number(count) / Number(seconds)) : Number(perSecond);
    return { count: Number(count), seconds: Number(seconds), perSecond: rate, peakRssMb };
  };
  return { snapshot: figure('snapshot → change topic'), streaming: figure('stream inserts → change topic \\(restarted\\)') };
}
