import type { ChangeEvent } from './change-event.ts';
import type { EventSerde } from './serde.ts';
import type { Consumer, OutgoingRecord, PartitionBatch, Producer, Transport } from './transport.ts';
import { decodeOrDeadLetter, identifyOrDeadLetter, logDeadLetters, refusedRecord, type DeadLetterEntry } from './dead-letter.ts';
import { OperatorStage, type RefusedEvent } from './operator-stage.ts';
import { placeByRowKey, repartitionRecords } from './repartition.ts';
import { groups, topics } from './topics.ts';
import { withRetry } from './retry.ts';
import type { PipelineMetrics } from './metrics.ts';
import { silentLogger, type Logger } from './log.ts';

export interface RepartitionStageOptions {
  pipeline: string;
  transport: Transport;
  serde: EventSerde;
  /** The change topics (and routed topics) the source stage writes. */
  inputTopics: readonly string[];
  partitions: number;
  stage: OperatorStage;
  metrics: PipelineMetrics;
  /** Where dead-lettered records are logged (silent by default). */
  log?: Logger;
}

/**
 * The largest record batch the repartition stage writes of one partition (the producer splits a send to
 * keep to it). The sinks fetch at least this much of each partition (sink-runner.ts), so a fetch always
 * brings whole batches of every partition it asks for: the broker returns a batch larger than a fetch's
 * limit whole only for the first non-empty partition of the fetch and cuts it in any other, and KafkaJS
 * drops the cut part, so a partition whose batches were larger would get nothing until the partitions
 * before it in the fetch ran dry. Small enough that the sinks' fetches stay small (memory), large enough
 * that a busy partition still gets hundreds of rows per batch.
 */
export const REPARTITION_BATCH_BYTES = 256 * 1024;

interface Placed {
  records: OutgoingRecord[];
  deadLetters: DeadLetterEntry[];
}

/**
 * Consumes the change topics in group `<pipeline>.repartition`, runs the operators placed after
 * `repartition()`, and writes each partition's batch to the repartition topic (plus undecodable records
 * to the dead-letter topic) in one send; the input offsets are committed only after its acks.
 * With no operators after `repartition()`, a record is forwarded with its key and value bytes unchanged:
 * only its op, table and key are read (EventSerde.identify) to place it, and nothing is re-encoded. Its
 * schema ids are then those of the change topic's subjects; a reader looks schemas up by id, so it reads
 * the same events.
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
    const stage = new RepartitionStage(options, await options.transport.producer({ maxPartitionBatchBytes: REPARTITION_BATCH_BYTES }));
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
    const { metrics } = this.options;
    const { records, deadLetters } = this.options.stage.passesThrough ? await this.placeBytes(batch) : await this.reencode(batch);
    const produced = records.length;
    records.push(...deadLetters.map(({ record }) => record));
    if (records.length > 0) await withRetry(`repartition ${batch.topic}/${batch.partition}`, () => this.producer.send(records), { signal: batch.signal });
    logDeadLetters(this.options.log ?? silentLogger, deadLetters);
    metrics.batch('repartition', batch.records.length, produced);
    metrics.deadLettered('repartition', deadLetters.map(({ record }) => record));
  }

  /** Decodes, runs the operators, encodes their outputs. */
  private async reencode(batch: PartitionBatch): Promise<Placed> {
    const { pipeline, serde, partitions, stage } = this.options;
    const decoded = await decodeOrDeadLetter(serde, pipeline, 'repartition', batch.records);
    const outputs: ChangeEvent[] = [];
    const refused: RefusedEvent[] = [];
    const deadLetters: DeadLetterEntry[] = decoded.deadLetters.map((record) => ({ record }));
    decoded.events.forEach((event, i) => {
      stage.feed(event, outputs, refused);
      if (refused.length > 0) deadLetters.push({ record: refusedRecord(pipeline, 'repartition', decoded.origins[i]!, refused.pop()!), row: event });
    });
    return { records: await repartitionRecords(serde, topics.repartition(pipeline), partitions, outputs), deadLetters };
  }

  /** Places each record by its identity alone and forwards its bytes. */
  private async placeBytes(batch: PartitionBatch): Promise<Placed> {
    const { pipeline, serde, partitions } = this.options;
    const identified = await identifyOrDeadLetter(serde, pipeline, 'repartition', batch.records);
    return { records: placeByRowKey(topics.repartition(pipeline), partitions, identified.events, identified.origins), deadLetters: identified.deadLetters.map((record) => ({ record })) };
  }
}
