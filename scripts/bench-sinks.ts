/**
 * Rows/s applied by the MariaDB, PostgreSQL and MongoDB sinks, for N mixed change events (inserts,
 * updates, deletes) hashed by key into 1 and 8 partitions, one concurrent worker per partition,
 * batches of BATCH records per transaction; the events are in memory (scripts/bench-sinks-kafka.ts reads
 * them from a repartition topic). Uses the stack's servers (.stack/env); each run works in a scratch
 * database/schema that it drops after, and checks the target's row count against the source's.
 *
 *   node --import tsx scripts/bench-sinks.ts [events=100000] [batch=500]
 */
import { loadavg } from 'node:os';
import { CdcError } from '../topology/errors.ts';
import type { SinkConnector, SinkRecord } from '../topology/sink.ts';
import { MixedWorkload } from '../test/connectors/support/mixed-workload.ts';
import { hashPartition, partition } from '../test/connectors/support/schedules.ts';
import { benchTargets } from './bench/sink-targets.ts';

const EVENTS = Number(process.argv[2] ?? 100_000);
const BATCH = Number(process.argv[3] ?? 500);

/** One worker per partition, batch after batch; a retriable error retries the same batch. */
async function run(sink: SinkConnector, parts: SinkRecord[][]): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    parts.map(async (records) => {
      for (let i = 0; i < records.length; i += BATCH) {
        const batch = records.slice(i, i + BATCH);
        for (;;) {
          try {
            const { rejected } = await sink.apply(batch);
            if (rejected.length > 0) throw new Error(`rejected: ${rejected[0]!.reason}`);
            break;
          } catch (error) {
            if (!(error instanceof CdcError && error.retriable)) throw error;
          }
        }
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const workload = new MixedWorkload('bench', 'rows', 1);
const all = workload.next(EVENTS);

console.log(`${EVENTS} events (50% c, 35% u, 15% d), batches of ${BATCH}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const { system, make } of benchTargets) {
  for (const count of [1, 8]) {
    const target = await make();
    try {
      await target.sink.start();
      const seconds = await run(target.sink, partition(all, count, (key) => hashPartition(key, count)));
      const rows = await target.count('rows');
      if (rows !== workload.rows.size) throw new Error(`${system}: ${rows} rows in the target, the source has ${workload.rows.size}`);
      console.log(`${system.padEnd(10)} partitions=${count}  ${EVENTS} events in ${seconds.toFixed(2)} s  ${Math.round(EVENTS / seconds)} rows/s`);
    } finally {
      await target.sink.close();
      await target.drop();
    }
  }
}
