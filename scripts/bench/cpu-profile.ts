import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * Runs `work` under V8's sampling CPU profiler (in this process, through the inspector) and writes the
 * profile to `file` (a .cpuprofile: Chrome DevTools opens it; scripts/cpuprofile-summary.ts sums it):
 * one phase of a benchmark is profiled, not the setup around it. A `file` ending in .heapprofile gets
 * V8's sampling allocation profile instead, objects the GC collected since included: where the
 * garbage comes from.
 */
export async function profiled<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  const allocations = file.endsWith('.heapprofile');
  try {
    if (allocations) {
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    } else {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    try {
      return await work();
    } finally {
      const { profile } = allocations ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
    }
  } finally {
    session.disconnect();
  }
}
