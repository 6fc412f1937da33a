import { AvroEventSerde } from '../../../serdes/avro-serde.ts';
import { ConfluentSchemaRegistry } from '../../../serdes/registry.ts';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import { PipelineMetrics } from '../../../topology/metrics.ts';
import { OperatorStage } from '../../../topology/operator-stage.ts';
import { repartitionRecords } from '../../../topology/repartition.ts';
import type { EventSerde } from '../../../topology/serde.ts';
import type { SinkConnector } from '../../../topology/sink.ts';
import { SinkRunner } from '../../../topology/sink-runner.ts';
import type { RetryOptions } from '../../../topology/retry.ts';
import { groups, topics } from '../../../topology/topics.ts';
import type { PartitionOffset, Transport } from '../../../topology/transport.ts';
import { stackEnv } from '../../support/stack-env.ts';
import { withAdmin } from '../../topology/fixtures/kafka-kit.ts';

/** The serde the topology writes the repartition topic with: Avro through the stack's registry. */
export function avroSerde(prefix: string): AvroEventSerde {
  return new AvroEventSerde({ registry: ConfluentSchemaRegistry.fromArgs({ host: stackEnv().SCHEMA_REGISTRY_URL }), prefix });
}

/**
 * A pipeline's repartition topic filled before any sink runs, as the repartition stage writes it
 * (topology/repartition.ts: murmur2 over table + key, Avro in the wire format), with its dead-letter
 * topic; sinks then drain it through SinkRunner.
 */
export class FilledRepartitionTopic {
  private constructor(
    readonly pipeline: string,
    readonly transport: Transport,
    readonly serde: EventSerde,
    /** Per partition, the offset after its last record. */
    readonly ends: PartitionOffset[],
  ) {}

  /** Writes each chunk of events in one send (chunks bound memory: a million events need not be encoded at once). */
  static async fill(
    transport: Transport,
    serde: EventSerde,
    pipeline: string,
    partitions: number,
    chunks: Iterable<readonly ChangeEvent[]>,
  ): Promise<FilledRepartitionTopic> {
    const topic = topics.repartition(pipeline);
    await transport.createTopics([
      { name: topic, partitions },
      { name: topics.deadLetter(pipeline), partitions: 1 },
    ]);
    const producer = await transport.producer();
    try {
      for (const events of chunks) await producer.send(await repartitionRecords(serde, topic, partitions, events));
    } finally {
      await producer.close();
    }
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    const ends = offsets.map(({ partition, high }) => ({ partition, offset: high })).sort((a, b) => a.partition - b.partition);
    return new FilledRepartitionTopic(pipeline, transport, serde, ends);
  }

  get records(): number {
    return this.ends.reduce((sum, { offset }) => sum + Number(offset), 0);
  }

  /** Starts `sink` on the topic in its own consumer group (`<pipeline>.sink.<name>`), as the topology does. */
  drainInto(sink: SinkConnector, retry?: RetryOptions): Promise<SinkRunner> {
    return SinkRunner.start({
      pipeline: this.pipeline,
      transport: this.transport,
      serde: this.serde,
      sink,
      stage: new OperatorStage([]),
      metrics: new PipelineMetrics(),
      retry,
    });
  }

  /** Records the sink's group has committed, over all partitions. */
  async committed(sinkName: string): Promise<number> {
    const offsets = await this.transport.committedOffsets(groups.sink(this.pipeline, sinkName), topics.repartition(this.pipeline));
    return offsets.reduce((sum, { offset }) => sum + Number(offset), 0);
  }

  /** True once the sink's group has committed every partition up to its end: lag zero. */
  async drained(sinkName: string): Promise<boolean> {
    return (await this.committed(sinkName)) === this.records;
  }
}
