import type { RunningTopology } from './topology.ts';

/** Options of `stopOnSignals()`. */
export interface StopOnSignalsOptions {
  /** Told what is happening; stderr by default. */
  log?: (message: string) => void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** The exit status of a process ended by a signal, as a shell reports it. */
const EXIT_BY_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Clean shutdown on SIGTERM / SIGINT: the first signal stops the topology (sources stop and write what
 * their tokens cover, the consumers drain and commit, everything disconnects) and `running.done`
 * settles, so the caller exits after awaiting it. A second signal while that runs exits at once,
 * without draining: what was not committed is read again on the next start (at least once).
 * Returns a function that removes the handlers.
 */
export function stopOnSignals(running: RunningTopology, options: StopOnSignalsOptions = {}): () => void {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  let stopping = false;
  const remove = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    if (stopping) {
      log(`${signal} again: exiting without draining (uncommitted work is read again on the next start)`);
      process.exit(EXIT_BY_SIGNAL[signal]);
    }
    stopping = true;
    log(`${signal}: stopping sources, draining and committing; send it again to exit at once`);
    void running.stop().finally(remove);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // A topology that stops by itself (a fatal error) needs the handlers no more.
  void running.done.catch(() => {}).finally(remove);
  return remove;
}
