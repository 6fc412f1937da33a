/**
 * Rows/s applied by the MariaDB, PostgreSQL and MongoDB sinks from a pre-filled repartition topic on the
 * stack's Kafka: N mixed change events (50% inserts, 35% updates, 15% deletes), Avro in the wire format
 * through the registry, written by the project's repartition (murmur2 over table + key) into 1 and 8
 * partitions. Each sink then drains the topic through SinkRunner, as the topology runs it (one worker per
 * partition, batches as KafkaJS fetches them, one transaction per batch, offsets committed after it), in a
 * consumer group of its own. The time runs from its first apply until the group's lag is zero; the target's
 * row count is checked against the source's. Scratch topics, databases and schemas are dropped after.
 *
 *   node --import tsx scripts/bench-sinks-kafka.ts [events=1000000] [partitions=1,8] [targets=mariadb,postgres,mongodb]
 */
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { MixedWorkload } from '../test/connectors/support/mixed-workload.ts';
import { ObservedSink } from '../test/connectors/support/observed-sink.ts';
import { avroSerde, FilledRepartitionTopic } from '../test/connectors/support/repartition-topic.ts';
import { deletePipelineTopics, kafkaTransport } from '../test/topology/fixtures/kafka-kit.ts';
import { benchTargets } from './bench/sink-targets.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const PARTITIONS = (process.argv[3] ?? '1,8').split(',').map(Number);
const TARGETS = new Set((process.argv[4] ?? benchTargets.map((t) => t.system).join(',')).split(','));
/** How often the group's committed offsets are read: the figures are this precise. */
const POLL_MS = 50;

const load = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

console.log(`${EVENTS} events (50% c, 35% u, 15% d) per repartition topic; ${load()}`);
for (const partitions of PARTITIONS) {
  const pipeline = `bench-sinks-${randomBytes(4).toString('hex')}`;
  const workload = new MixedWorkload('bench', 'rows', 1);
  // One transport per topic: KafkaJS keeps asking for the metadata of topics it knew, deleted ones included.
  const transport = kafkaTransport();
  try {
    const filling = performance.now();
    const topic = await FilledRepartitionTopic.fill(transport, avroSerde(pipeline), pipeline, partitions, workload.chunks(EVENTS));
    console.log(`filled ${pipeline}.repartition (${partitions} partitions) in ${((performance.now() - filling) / 1000).toFixed(1)} s`);
    for (const { system, make } of benchTargets.filter((t) => TARGETS.has(t.system))) {
      const target = await make();
      const sink = new ObservedSink(target.sink);
      try {
        const runner = await topic.drainInto(sink);
        let fatal: unknown;
        runner.done.catch((error: unknown) => (fatal = error));
        try {
          while (fatal === undefined && !(await topic.drained(sink.name))) await sleep(POLL_MS);
        } finally {
          await runner.stop();
        }
        if (fatal !== undefined) throw fatal;
        const seconds = (performance.now() - sink.firstApplyAt!) / 1000;
        const rows = await target.count('rows');
        if (rows !== workload.rows.size) throw new Error(`${system}: ${rows} rows in the target, the source has ${workload.rows.size}`);
        const retried = sink.failures.length > 0 ? `  (${sink.failures.length} batches retried)` : '';
        console.log(`${system.padEnd(10)} partitions=${partitions}  ${topic.records} events in ${seconds.toFixed(2)} s  ${Math.round(topic.records / seconds)} rows/s${retried}`);
      } finally {
        await target.drop();
      }
    }
  } finally {
    await transport.close();
    await deletePipelineTopics(pipeline);
  }
}
console.log(load());
