import { readFileSync } from 'node:fs';

const SAMPLE_MS = 100;

/**
 * The peak resident memory of a running process, from the kernel's high-water mark (VmHWM in
 * /proc/<pid>/status). VmHWM only grows, so sampling it misses nothing but the last interval before the
 * process exits; call `sample()` after the figures are printed to close that gap.
 */
export class PeakRss {
  private peakKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  /** The peak so far, in MB. */
  peakMb(): number {
    this.sample();
    return Math.round(this.peakKb / 1024);
  }

  sample(): void {
    try {
      this.peakKb = Math.max(this.peakKb, highWaterKb(this.pid));
    } catch {
      // The process has exited: its last sample stands.
    }
  }

  /** Stops sampling; the peak in MB. */
  stop(): number {
    clearInterval(this.timer);
    return this.peakMb();
  }
}

function highWaterKb(pid: number | 'self'): number {
  return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** This process's peak resident memory so far, in MB: a script's figure for its phases up to now. */
export function ownPeakRssMb(): number {
  return Math.round(highWaterKb('self') / 1024);
}
