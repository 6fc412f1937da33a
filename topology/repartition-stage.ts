import type { ChangeEvent } from './change-event.ts';
import type { EventSerde } from './serde.ts';
import type { Consumer, PartitionBatch, Producer, Transport } from './transport.ts';
import { decodeOrDeadLetter } from './dead-letter.ts';
import { OperatorStage } from './operator-stage.ts';
import { repartitionRecords } from './repartition.ts';
import { groups, topics } from './topics.ts';
import { withRetry } from './retry.ts';
import type { PipelineMetrics } from './metrics.ts';

export interface RepartitionStageOptions {
  pipeline: string;
  transport: Transport;
  serde: EventSerde;
  /** The change topics (and routed topics) the source stage writes. */
  inputTopics: readonly string[];
  partitions: number;
  stage: OperatorStage;
  metrics: PipelineMetrics;
}

/**
 * Consumes the change topics in group `<pipeline>.repartition`, runs the operators placed after
 * `repartition()`, and writes each partition's batch to the repartition topic (plus undecodable records
 * to the dead-letter topic) in one send; the input offsets are committed only after its acks.
 * At least once: a crash between the send and the commit writes the batch again, which the idempotent
 * sinks absorb.
 */
export class RepartitionStage {
  private constructor(
    private readonly options: RepartitionStageOptions,
    private readonly producer: Producer,
    private consumer?: Consumer,
  ) {}

  static async start(options: RepartitionStageOptions): Promise<RepartitionStage> {
    const stage = new RepartitionStage(options, await options.transport.producer());
    stage.consumer = await options.transport.consumer({
      groupId: groups.repartition(options.pipeline),
      topics: options.inputTopics,
      fromBeginning: true,
      eachBatch: (batch) => stage.forward(batch),
    });
    return stage;
  }

  get done(): Promise<void> {
    return this.consumer!.done;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.producer.close();
  }

  private async forward(batch: PartitionBatch): Promise<void> {
    const { pipeline, serde, partitions, stage, metrics } = this.options;
    const decoded = await decodeOrDeadLetter(serde, pipeline, 'repartition', batch.records);
    const outputs: ChangeEvent[] = [];
    for (const event of decoded.events) stage.feed(event, outputs);
    const records = await repartitionRecords(serde, topics.repartition(pipeline), partitions, outputs);
    const produced = records.length;
    records.push(...decoded.deadLetters);
    if (records.length > 0) await withRetry(`repartition ${batch.topic}/${batch.partition}`, () => this.producer.send(records), { signal: batch.signal });
    metrics.batch('repartition', batch.records.length, produced);
    metrics.deadLettered('repartition', decoded.deadLetters.length);
  }
}
