import type { EventSerde } from './serde.ts';
import { DEFAULT_SINK_BATCH_LIMITS, type SinkBatchLimits, type SinkConnector, type SinkContext, type SinkRecord } from './sink.ts';
import { recordBytes, type ConsumedRecord, type Consumer, type PartitionBatch, type Producer, type Transport } from './transport.ts';
import { deadLetter, decodeOrDeadLetter, logDeadLetters, refusedRecord, type DeadLetterEntry } from './dead-letter.ts';
import { OperatorStage, type RefusedEvent } from './operator-stage.ts';
import { REPARTITION_BATCH_BYTES } from './repartition-stage.ts';
import { groups, topics } from './topics.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import type { PipelineMetrics } from './metrics.ts';
import { silentLogger, type Logger } from './log.ts';


export interface SinkRunnerOptions {
  pipeline: string;
  transport: Transport;
  serde: EventSerde;
  sink: SinkConnector;
  stage: OperatorStage;
  metrics: PipelineMetrics;
  /** How much of a partition one `apply` gets (DEFAULT_SINK_BATCH_LIMITS when absent). */
  limits?: SinkBatchLimits;
  /** How `apply` is retried; by default without end (a target restarting must not stop the pipeline), waits capped at 10 s. */
  retry?: RetryOptions;
  log?: Logger;
}

/**
 * A sink's target being down is the normal case a sink waits out, as Kafka Connect's sinks do: every
 * retriable failure is retried for as long as it lasts (each wait logged), until the partition moves
 * to another process or the topology stops (the batch's signal). Fatal errors still stop at once.
 */
const APPLY_RETRY: RetryOptions = { attempts: Number.POSITIVE_INFINITY, maxDelayMs: 10_000 };

/**
 * Applies the repartition topic to one sink, in group `<pipeline>.sink.<name>`: each partition is a
 * worker that applies its batches in offset order (partitions run in parallel). A fetched batch is
 * decoded and applied in slices within the sink's limits, one after the other, so a process holds at
 * most one slice per partition it owns. A batch's offsets are committed only after every slice's
 * `apply` resolved and its rejected records are on the dead-letter topic (a batch read again after a
 * crash finds its applied slices already in the target, which the sinks' position rule skips).
 * A retriable failure retries the same batch (retry.ts); anything else stops the consumer, and with it
 * the topology, with the sink's name and the partition in the message.
 */
export class SinkRunner {
  private consumer?: Consumer;
  private readonly limits: SinkBatchLimits;

  private constructor(
    private readonly options: SinkRunnerOptions,
    private readonly producer: Producer,
  ) {
    this.limits = options.limits ?? DEFAULT_SINK_BATCH_LIMITS;
  }

  static async start(options: SinkRunnerOptions): Promise<SinkRunner> {
    const { metrics, sink } = options;
    const topic = topics.repartition(options.pipeline);
    const partitions = (await options.transport.latestOffsets(topic)).length;
    const log = options.log ?? silentLogger;
    const context: SinkContext = {
      topic,
      partitions,
      purged: (table, count) => metrics.tombstonesPurged(sink.name, table, count),
      warn: (message, error) => log.warn({ sink: sink.name, err: error }, message),
    };
    await withRetry(`start sink ${sink.name}`, () => sink.start(context), { onRetry: retryLogger(options, 'start') });
    const runner = new SinkRunner(options, await options.transport.producer());
    metrics.sinkAssigned(sink.name, null);
    runner.consumer = await options.transport.consumer({
      onAssignment: (assigned) => metrics.sinkAssigned(sink.name, assigned.length),
      groupId: groups.sink(options.pipeline, options.sink.name),
      topics: [topic],
      fromBeginning: true,
      // At least the repartition stage's largest batch, so every partition of a fetch comes whole
      // (REPARTITION_BATCH_BYTES says why); a fetch is applied in slices of the batch limits.
      maxBytesPerPartition: Math.max(runner.limits.maxBatchBytes, REPARTITION_BATCH_BYTES),
      eachBatch: (batch) => runner.apply(batch),
    });
    return runner;
  }

  get done(): Promise<void> {
    return this.consumer!.done;
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.producer.close();
    await this.options.sink.close();
  }

  private async apply(batch: PartitionBatch): Promise<void> {
    for (const slice of slices(batch.records, this.limits)) await this.applySlice(batch, slice);
  }

  private async applySlice(batch: PartitionBatch, slice: readonly ConsumedRecord[]): Promise<void> {
    const { pipeline, serde, sink, stage, metrics } = this.options;
    const stageName = `sink:${sink.name}`;
    const where = `sink ${sink.name} on ${batch.topic}/${batch.partition}`;
    const decoded = await decodeOrDeadLetter(serde, pipeline, `sink.${sink.name}`, slice);
    const records: SinkRecord[] = [];
    const outputs: SinkRecord['event'][] = [];
    const refused: RefusedEvent[] = [];
    const deadLetters: DeadLetterEntry[] = decoded.deadLetters.map((record) => ({ record }));
    decoded.events.forEach((event, i) => {
      const origin = decoded.origins[i]!;
      stage.feed(event, outputs, refused);
      if (refused.length > 0) deadLetters.push({ record: refusedRecord(pipeline, `sink.${sink.name}`, origin, refused.pop()!), row: event });
      for (const output of outputs) records.push({ event: output, topic: origin.topic, partition: origin.partition, offset: origin.offset });
      outputs.length = 0;
    });
    let applied = 0;
    if (records.length > 0) {
      const started = performance.now();
      const { rejected } = await withRetry(`apply to ${where}`, () => sink.apply(records), {
        ...APPLY_RETRY,
        onRetry: retryLogger(this.options, where),
        ...this.options.retry,
        signal: batch.signal,
      });
      metrics.applied(sink.name, (performance.now() - started) / 1000);
      applied = records.length - rejected.length;
      const originOf = rejected.length > 0 ? new Map(slice.map((record) => [record.offset, record])) : undefined;
      for (const { record, reason } of rejected) deadLetters.push({ record: deadLetter(pipeline, `sink.${sink.name}`, originOf!.get(record.offset)!, reason), row: record.event });
    }
    const deadLetterRecords = deadLetters.map(({ record }) => record);
    if (deadLetters.length > 0) {
      await withRetry(`dead-letter ${deadLetters.length} records of ${where}`, () => this.producer.send(deadLetterRecords), { signal: batch.signal });
      logDeadLetters(this.options.log ?? silentLogger, deadLetters);
    }
    metrics.batch(stageName, slice.length, applied);
    metrics.deadLettered(stageName, deadLetterRecords);
  }
}

/** `records` cut, in order, into runs of at most `maxBatchRows` records and `maxBatchBytes` bytes of keys and values (a larger record alone). */
function* slices(records: readonly ConsumedRecord[], limits: SinkBatchLimits): Generator<ConsumedRecord[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < records.length; i++) {
    const size = recordBytes(records[i]!);
    if (i > start && (i - start === limits.maxBatchRows || bytes + size > limits.maxBatchBytes)) {
      yield records.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < records.length) yield records.slice(start);
}

function retryLogger(options: SinkRunnerOptions, where: string): RetryOptions['onRetry'] {
  const log = options.log ?? silentLogger;
  return (error, attempt, delayMs) => {
    options.metrics.sinkFailed(options.sink.name, error);
    log.warn({ sink: options.sink.name, where, attempt, delayMs, err: error }, 'sink retrying');
  };
}
