import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { PipelineMetrics, TableProgress } from '../topology/metrics.ts';
import type { VerifyProgress } from './verify.ts';

export interface ProgressOptions {
  /** Bars on a terminal; periodic one-line log summaries otherwise (a file, a pipe, a container log). */
  tty: boolean;
  log: Logger;
  intervalMs?: number;
}

/**
 * Shows snapshot progress while `run` runs: on a TTY, a bar per table (rows done / estimated, rate,
 * ETA) on stderr; elsewhere a `progress` log line every interval with the same figures and the event
 * counts. Returns a function that stops it.
 */
export function showProgress(metrics: PipelineMetrics, options: ProgressOptions): () => void {
  return options.tty ? showBars(metrics) : logSummaries(metrics, options.log, options.intervalMs ?? 10_000);
}

function showBars(metrics: PipelineMetrics): () => void {
  const bars = new cliProgress.MultiBar(
    {
      format: ' {name} [{bar}] {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} {state}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const shown = new Map<string, { bar: cliProgress.SingleBar; startedAt: number; startRows: number }>();
  const update = () => {
    for (const [source, state] of metrics.sources) {
      for (const [table, progress] of state.tables) {
        const name = `${source}:${table}`;
        let entry = shown.get(name);
        if (entry === undefined) {
          if (progress.done && progress.rows === 0 && state.phase !== 'snapshot') continue;
          entry = { bar: bars.create(totalOf(progress), progress.rows, { name, rate: 0, state: '' }), startedAt: Date.now(), startRows: progress.rows };
          shown.set(name, entry);
        }
        const seconds = Math.max((Date.now() - entry.startedAt) / 1000, 0.001);
        entry.bar.setTotal(totalOf(progress));
        entry.bar.update(progress.rows, { name, rate: Math.round((progress.rows - entry.startRows) / seconds), state: progress.done ? 'done' : '' });
      }
    }
  };
  const timer = setInterval(update, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    update();
    bars.stop();
  };
}

/**
 * `verify`'s bars on a terminal (stderr): one per table and sink, rows compared / the source's estimate,
 * rate and ETA. `stop()` leaves them on screen.
 */
export function verifyBars(): VerifyProgress & { stop(): void } {
  const bars = new cliProgress.MultiBar(
    {
      format: ' {name} [{bar}] {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} {state}',
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const shown = new Map<string, { bar: cliProgress.SingleBar; rows: number; estimate: number; startedAt: number }>();
  const show = (name: string, done: boolean) => {
    const entry = shown.get(name)!;
    const rate = Math.round(entry.rows / Math.max((Date.now() - entry.startedAt) / 1000, 0.001));
    // Estimates are statistics: the total grows when the rows pass it, and is the count once done.
    entry.bar.setTotal(done ? entry.rows : Math.max(entry.estimate, entry.rows, 1));
    entry.bar.update(entry.rows, { name, rate, state: done ? 'done' : '' });
  };
  return {
    start(name, estimatedRows) {
      shown.set(name, { bar: bars.create(Math.max(estimatedRows, 1), 0, { name, rate: 0, state: '' }), rows: 0, estimate: estimatedRows, startedAt: Date.now() });
    },
    advance(name, rows) {
      shown.get(name)!.rows += rows;
      show(name, false);
    },
    done: (name) => show(name, true),
    stop: () => bars.stop(),
  };
}

/** A bar's total: the estimate, or the rows so far when the estimate is missing or too low (statistics lag). */
function totalOf(progress: TableProgress): number {
  return progress.done ? progress.rows : Math.max(progress.estimate ?? 0, progress.rows, 1);
}

function logSummaries(metrics: PipelineMetrics, log: Logger, intervalMs: number): () => void {
  const summarize = () => {
    const sources = Object.fromEntries(
      [...metrics.sources].map(([name, state]) => {
        const tables = [...state.tables.values()];
        const snapshot = { tables: tables.length, done: tables.filter((t) => t.done).length, rows: sum(tables, (t) => t.rows), estimate: sum(tables, (t) => t.estimate ?? 0) };
        return [name, { phase: state.phase, snapshot }];
      }),
    );
    log.info({ sources, stages: metrics.totals() }, 'progress');
  };
  const timer = setInterval(summarize, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    summarize();
  };
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
