/**
 * Our figures, from the existing benchmark scripts run as child processes (their logic stays theirs): the
 * lines they print are parsed here, so a change to their output fails loudly in `parse` rather than
 * producing a wrong table.
 */
import { runScript } from './child.ts';
import type { Figure } from './report.ts';

/** The first match of `pattern` in a script's output; a missing line is an error naming the pattern. */
function parse(stdout: string, script: string, pattern: RegExp): RegExpExecArray {
  const match = pattern.exec(stdout);
  if (!match) throw new Error(`${script} printed no line matching ${pattern}: its output changed, update scripts/bench/ours.ts`);
  return match;
}

/** A row of a `| what | s | rows/s |` table as bench-mysql-source.ts prints it. */
const tableRow = (what: string) => new RegExp(`^\\| ${what}\\s*\\|\\s*([\\d.]+)\\s*\\|\\s*(\\d+)\\s*\\|$`, 'm');

/**
 * Snapshot and binlog streaming of the 10-column table into Kafka (Avro, 8-partition repartition running),
 * one process for both: they share its peak memory.
 */
export async function oursMySql(rows: number): Promise<{ snapshot: Figure; streaming: Figure }> {
  const script = 'bench-mysql-source.ts';
  const { stdout, peakRssMb } = await runScript(script, ['--rows', String(rows)]);
  const figure = (what: string): Figure => {
    const [, seconds, perSecond] = parse(stdout, script, tableRow(what));
    return { count: rows, seconds: Number(seconds), perSecond: Number(perSecond), peakRssMb };
  };
  return { snapshot: figure('snapshot into Kafka \\(Avro, registry\\)'), streaming: figure('streaming into Kafka \\(Avro, registry\\)') };
}

/** `events` mixed change events applied from an 8-partition repartition topic into a MariaDB database. */
export async function oursApply(events: number): Promise<Figure> {
  const script = 'bench-sinks-kafka.ts';
  const { stdout, peakRssMb } = await runScript(script, [String(events), '8', 'MariaDB']);
  const [, count, seconds, perSecond] = parse(stdout, script, /^MariaDB\s+partitions=8\s+(\d+) events in ([\d.]+) s\s+(\d+) rows\/s/m);
  return { count: Number(count), seconds: Number(seconds), perSecond: Number(perSecond), peakRssMb };
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
