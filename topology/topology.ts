import type { ChangeEvent } from './change-event.ts';
import type { SourceToken } from './token.ts';
import type { EventSerde } from './serde.ts';
import { DEFAULT_SINK_BATCH_LIMITS, type SinkBatchLimits, type SinkConnector } from './sink.ts';
import type { SourceConnector } from './source.ts';
import type { Producer, TopicSpec, Transport } from './transport.ts';
import { ChangeWriter, type BatchWriter } from './change-writer.ts';
import { CaptureStarts } from './capture-start.ts';
import { ConfigError } from './errors.ts';
import { FlowControl } from './flow-control.ts';
import { OperatorStage, type ChangeOperator, type NamedOperator, type OperatorErrorPolicy } from './operator-stage.ts';
import { outputTopicsOf } from './operators/route-to-topic.ts';
import { RepartitionStage } from './repartition-stage.ts';
import { SinkRunner } from './sink-runner.ts';
import { SourceOwnership, type OwnedSource } from './source-ownership.ts';
import { DEFAULT_CHUNK_SIZE, runSource, type SnapshotMode } from './source-runner.ts';
import { SnapshotWorker, spreadSnapshotTopicSpecs } from './spread-snapshot.ts';
import { notificationTopicSpec, TopicNotifier } from './notifications.ts';
import { SignalInbox } from './signals.ts';
import { requestSnapshot, type SnapshotRequestOptions, type SnapshotRequestResult } from './snapshot-request.ts';
import { TopicTokenStore, tokenTopicSpec } from './token-store.ts';
import { groups, sourceTransactionalId, topics } from './topics.ts';
import { silentLogger, type Logger } from './log.ts';
import { PipelineMetrics } from './metrics.ts';

/** Options of a topology, given to `new TopologyBuilder(...)`. */
export interface TopologyOptions {
  /** The pipeline id: names every topic and group, and is shared by all processes of one pipeline. */
  pipeline: string;
  serde: EventSerde;
  /** Partitions of each change topic; 1 (the default) keeps a source's total order in its topic. */
  changeTopicPartitions?: number;
  /**
   * Source stage: write each batch and its token in one Kafka transaction (exactly-once into the change
   * topics) instead of the token after the batch's acks (at least once). Default false: see
   * scripts/bench-topology.ts for what transactions cost.
   */
  exactlyOnce?: boolean;
  /** Events per source write. */
  maxBatch?: number;
  /** Events a source may have written but not yet acknowledged before it is paused. */
  maxInFlightEvents?: number;
  /** Where stages log what they do (pino fits); silent by default. */
  log?: Logger;
}

/**
 * Which stages this process runs, for split deployments: `sources` runs the source and repartition
 * stages (everything that writes Kafka), `sinks` the sink stages (everything that reads the repartition
 * topic into targets). Processes with the same pipeline id share each stage's work.
 */
export type StageSelection = 'all' | 'sources' | 'sinks';

/** Options of `Topology.start()`. */
export interface StartOptions {
  only?: StageSelection;
  /** Reported to as the topology runs; a fresh one by default (see RunningTopology.metrics). */
  metrics?: PipelineMetrics;
}

/** How `through()` places an operator. */
export interface ThroughOptions {
  /**
   * Topics the operator routes events to (sets `event.topic`), besides those it declares itself as
   * `outputTopics` (routeToTopic does): created on start and read by the repartition stage. An event routed
   * to a topic nobody declared stops the source with an error rather than going where nothing reads it.
   */
  topics?: readonly string[];
  /** What an exception of the operator does to its event: `stop` the pipeline (default) or `dead-letter` it. */
  onError?: OperatorErrorPolicy;
}

interface SourceSpec {
  connector: SourceConnector;
  snapshot: SnapshotMode;
  chunkSize?: number;
  /** Present: the initial snapshot is spread over the pipeline's processes (spread-snapshot.ts). */
  spread?: SpreadSnapshotOptions;
}

/** `TopologyBuilder.source`'s `spread`: how a spread snapshot goes. */
export interface SpreadSnapshotOptions {
  /** Key ranges each process reads at once (default 2). */
  parallelism?: number;
}

const DEFAULT_SPREAD_PARALLELISM = 2;

interface SinkSpec {
  connector: SinkConnector;
  operators: NamedOperator[];
  limits: SinkBatchLimits;
}

/** What a dead-lettered record passes through again when it is replayed (dead-letter-replay.ts). */
export interface DeadLetterRoute {
  pipeline: string;
  serde: EventSerde;
  sourceOperators: readonly NamedOperator[];
  repartitionOperators: readonly NamedOperator[];
  sinks: ReadonlyArray<{ connector: SinkConnector; operators: readonly NamedOperator[] }>;
}

/** A builder option that counts something: a ConfigError naming it otherwise. */
function requirePositiveWhole(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${what} must be a positive whole number, got ${value}`);
}

/**
 * Builds a topology in code, as Kafka Streams' StreamsBuilder does:
 *
 *   new TopologyBuilder({ pipeline: 'shop', serde })
 *     .source(mysql).source(mongo, { snapshot: 'when_needed' })
 *     .through('mask-email', maskColumns(['email']))          // source stage, before the change topics
 *     .repartition({ partitions: 8 })
 *     .through('no-audit', filter((e) => e.source.table !== 'audit'))  // repartition stage
 *     .sink(postgres)
 *     .build();
 *
 * `through` places a plain RxJS operator where it is called: before `repartition()` in the source
 * stage, after it in the repartition stage; `sink(connector, ...operators)` adds operators for one sink,
 * and `sink(connector, { maxBatchRows, maxBatchBytes }, ...operators)` bounds its batches (SinkBatchLimits).
 * Without `repartition()` (and then without sinks, which read the repartition topic) the topology only
 * captures into the change topics, as a Debezium source connector does.
 */
export class TopologyBuilder {
  private readonly sources: SourceSpec[] = [];
  private readonly sourceOperators: NamedOperator[] = [];
  private readonly repartitionOperators: NamedOperator[] = [];
  private partitions: number | undefined;
  private readonly sinks: SinkSpec[] = [];
  private readonly routes: string[] = [];

  constructor(private readonly options: TopologyOptions) {}

  /**
   * `chunkSize`: rows per chunk of the source's incremental snapshots, and per key range of a spread
   * snapshot (default 10 000). `spread`: its initial snapshot is read by every process of the pipeline
   * (docs/spread-snapshot.md).
   */
  source(connector: SourceConnector, options: { snapshot?: SnapshotMode; chunkSize?: number; spread?: SpreadSnapshotOptions } = {}): this {
    if (options.chunkSize !== undefined) requirePositiveWhole(`source ${connector.name}: chunkSize`, options.chunkSize);
    const { spread } = options;
    if (spread !== undefined) {
      if (connector.splitTable === undefined || connector.readChunk === undefined) {
        throw new ConfigError(`source ${connector.name}: a ${connector.connector} source cannot spread its snapshot over processes: set spreadSnapshot: false`);
      }
      if (spread.parallelism !== undefined) requirePositiveWhole(`source ${connector.name}: spread parallelism`, spread.parallelism);
    }
    this.sources.push({
      connector,
      snapshot: options.snapshot ?? 'initial',
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(spread === undefined ? {} : { spread }),
    });
    return this;
  }

  through(name: string, operator: ChangeOperator, options: ThroughOptions = {}): this {
    const routes = [...outputTopicsOf(operator), ...(options.topics ?? [])];
    if (this.partitions !== undefined && routes.length > 0) {
      throw new ConfigError(`operator ${name} routes events to ${routes.join(', ')}: routing is done before the change topics, so place it before repartition()`);
    }
    (this.partitions === undefined ? this.sourceOperators : this.repartitionOperators).push({ name, operator, ...(options.onError ? { onError: options.onError } : {}) });
    if (routes.length > 0) this.routes.push(...routes);
    return this;
  }

  repartition(options: { partitions: number }): this {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) throw new ConfigError(`repartition needs a whole number of partitions >= 1, got ${options.partitions}`);
    this.partitions = options.partitions;
    return this;
  }

  sink(connector: SinkConnector, ...operators: NamedOperator[]): this;
  sink(connector: SinkConnector, limits: Partial<SinkBatchLimits>, ...operators: NamedOperator[]): this;
  sink(connector: SinkConnector, ...rest: Array<NamedOperator | Partial<SinkBatchLimits>>): this {
    const first = rest[0];
    const given = first !== undefined && !('operator' in first) ? (rest.shift() as Partial<SinkBatchLimits>) : {};
    const limits = { ...DEFAULT_SINK_BATCH_LIMITS, ...given };
    for (const [name, value] of Object.entries(limits)) requirePositiveWhole(`sink ${connector.name}: ${name}`, value);
    this.sinks.push({ connector, operators: rest as NamedOperator[], limits });
    return this;
  }

  build(): Topology {
    const { pipeline } = this.options;
    if (!/^[A-Za-z0-9._-]+$/.test(pipeline)) throw new ConfigError(`pipeline id "${pipeline}" must be letters, digits, '.', '_' or '-' (it names Kafka topics)`);
    if (this.sources.length === 0) throw new ConfigError(`pipeline ${pipeline} has no source`);
    if (this.partitions === undefined && this.sinks.length > 0) throw new ConfigError(`pipeline ${pipeline} has sinks but no repartition() stage: sinks read the repartition topic`);
    for (const [kind, names] of [
      ['source', this.sources.map((s) => s.connector.name)],
      ['sink', this.sinks.map((s) => s.connector.name)],
    ] as const) {
      const twice = names.find((name, i) => names.indexOf(name) !== i);
      if (twice !== undefined) throw new ConfigError(`pipeline ${pipeline} has two ${kind}s named ${twice}`);
    }
    return new Topology(this.options, [...this.sources], [...this.sourceOperators], [...this.repartitionOperators], this.partitions, [...this.sinks], [...new Set(this.routes)]);
  }
}

/** A topic in a described topology. */
export interface TopicDescription {
  topic: string;
  partitions: number;
  compacted?: boolean;
}

/** One stage (Kafka Streams' sub-topology) of a described topology: its consumer group, inputs, operators and outputs. */
export interface StageDescription {
  name: string;
  consumerGroup: string;
  inputs: Array<TopicDescription | { source: string; connector: string; snapshot: SnapshotMode }>;
  operators: string[];
  outputs: Array<TopicDescription | { sink: string }>;
}

/** What `Topology.describe()` returns: its stages, and as `toString()` the drawing `cdc describe` prints. */
export interface TopologyDescription {
  pipeline: string;
  exactlyOnce: boolean;
  stages: StageDescription[];
  toString(): string;
}

/** A topology running in this process, as `Topology.start()` returns it. */
export interface RunningTopology {
  /** Resolves after stop(); rejects with the fatal error that stopped the topology. */
  readonly done: Promise<void>;
  /** Indexes of the sources this process runs now. */
  readonly ownedSources: number[];
  /** Counters, gauges and live state: what `/metrics`, `/health` and progress bars show. */
  readonly metrics: PipelineMetrics;
  /**
   * Resolves once capture has begun for source `source` (without a name: for every source of the
   * topology) in this process: the position it streams from is durable in the token topic (its first
   * token committed, or the stored token it resumes from), so a change committed on the source after
   * this resolves is captured. With a snapshot that is before the snapshot's first row (the snapshot
   * may read a row written meanwhile, which then streams too), not when streaming starts. Rejects with the topology's error when it stops or fails first
   * (TopologyStoppedError after a clean stop), and at once with a ConfigError for a source the topology
   * does not have or a process started with `only: 'sinks'`. A source runs in one process of a
   * pipeline: one run by another process resolves here only once this process takes it over, so await
   * it where the source runs (see ownedSources).
   */
  capturing(source?: string): Promise<void>;
  /** Stops sources (writing what their tokens cover), drains and commits the consumers, disconnects. */
  stop(): Promise<void>;
}

/** A built topology: describe it, or start this process's share of it on a transport. Made by TopologyBuilder.build(). */
export class Topology {
  constructor(
    private readonly options: TopologyOptions,
    private readonly sources: readonly SourceSpec[],
    private readonly sourceOperators: readonly NamedOperator[],
    private readonly repartitionOperators: readonly NamedOperator[],
    /** Undefined: no repartition stage (a capture-only topology). */
    private readonly partitions: number | undefined,
    private readonly sinks: readonly SinkSpec[],
    /** Topics source operators route events to, besides the change topics. */
    private readonly routedTopics: readonly string[],
  ) {}

  get pipeline(): string {
    return this.options.pipeline;
  }

  /** The stages a dead letter goes through again when replayed, by where it was refused (dead-letter-replay.ts). */
  deadLetterRoute(): DeadLetterRoute {
    const { pipeline, serde } = this.options;
    return { pipeline, serde, sourceOperators: this.sourceOperators, repartitionOperators: this.repartitionOperators, sinks: this.sinks };
  }

  /** Every topic the topology uses; all are created on start, none on first use. */
  topicSpecs(): TopicSpec[] {
    const { pipeline } = this.options;
    const changePartitions = this.options.changeTopicPartitions ?? 1;
    const routed = this.routedTopics;
    return [
      ...this.sources.map((s) => ({ name: topics.change(pipeline, s.connector.name), partitions: changePartitions })),
      ...routed.map((name) => ({ name, partitions: changePartitions })),
      ...(this.partitions === undefined ? [] : [{ name: topics.repartition(pipeline), partitions: this.partitions }]),
      tokenTopicSpec(pipeline),
      { name: topics.deadLetter(pipeline), partitions: 1 },
      { name: topics.sourceControl(pipeline), partitions: this.sources.length },
      notificationTopicSpec(pipeline),
      ...(this.sources.some((s) => s.spread !== undefined) ? spreadSnapshotTopicSpecs(pipeline) : []),
    ];
  }

  describe(): TopologyDescription {
    const { pipeline } = this.options;
    const specs = new Map(this.topicSpecs().map((spec) => [spec.name, spec]));
    const topic = (name: string): TopicDescription => ({ topic: name, partitions: specs.get(name)!.partitions, ...(specs.get(name)!.compacted ? { compacted: true } : {}) });
    const changeTopics = [...this.sources.map((s) => topics.change(pipeline, s.connector.name)), ...this.routedTopics];
    const stages: StageDescription[] = [
      {
        name: 'source',
        consumerGroup: `${groups.sources(pipeline)} (owns one source per partition of ${topics.sourceControl(pipeline)})`,
        inputs: this.sources.map((s) => ({ source: s.connector.name, connector: s.connector.connector, snapshot: s.snapshot })),
        operators: this.sourceOperators.map((op) => op.name),
        // The repartition topic gets each table's snapshot end marker (boundary-batcher.ts marker()).
        outputs: [
          ...changeTopics.map(topic),
          ...(this.partitions === undefined ? [] : [topic(topics.repartition(pipeline))]),
          topic(topics.tokens(pipeline)),
          // A spread snapshot's ranges and their done records (spread-snapshot.ts).
          ...(specs.has(topics.snapshotWork(pipeline)) ? [topic(topics.snapshotWork(pipeline)), topic(topics.snapshotDone(pipeline))] : []),
        ],
      },
      ...(this.partitions === undefined
        ? []
        : [
            {
              name: 'repartition (re-key by table + primary key, murmur2)',
              consumerGroup: groups.repartition(pipeline),
              inputs: changeTopics.map(topic),
              operators: this.repartitionOperators.map((op) => op.name),
              outputs: [topic(topics.repartition(pipeline)), topic(topics.deadLetter(pipeline))],
            },
          ]),
      ...this.sinks.map((s) => ({
        name: `sink ${s.connector.name}`,
        consumerGroup: groups.sink(pipeline, s.connector.name),
        inputs: [topic(topics.repartition(pipeline))],
        operators: s.operators.map((op) => op.name),
        outputs: [{ sink: s.connector.name }, topic(topics.deadLetter(pipeline))],
      })),
    ];
    const exactlyOnce = this.options.exactlyOnce ?? false;
    return { pipeline, exactlyOnce, stages, toString: () => formatDescription(pipeline, exactlyOnce, stages) };
  }

  /**
   * Asks source `source` to snapshot `tables` (as the source names them: `db.table`, a MongoDB source's
   * collections) incrementally, in chunks while it streams (docs/incremental-snapshots.md). The request
   * goes to the source's partition of the control topic `<pipeline>.sources`, created with the
   * notifications topic if missing: whichever process runs the source takes it, and one written while none
   * does is taken when the source starts. By default waits for the source's answer (`options.wait`), read
   * from `<pipeline>.notifications` (docs/notifications.md). Needs no process of the pipeline in this one.
   */
  async requestSnapshot(transport: Transport, source: string, tables: readonly string[], options: SnapshotRequestOptions = {}): Promise<SnapshotRequestResult> {
    const { pipeline } = this.options;
    const index = this.sourceIndex(source);
    if (tables.length === 0 || tables.some((table) => table === '')) throw new ConfigError(`a snapshot request names one or more tables of source ${source}, got ${JSON.stringify(tables)}`);
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) throw new ConfigError(`requestSnapshot: timeoutMs must be a positive number of ms, got ${options.timeoutMs}`);
    const needed = new Set([topics.sourceControl(pipeline), topics.notifications(pipeline)]);
    await transport.createTopics(this.topicSpecs().filter((spec) => needed.has(spec.name)));
    return requestSnapshot(transport, pipeline, index, source, [...new Set(tables)], options);
  }

  /** The index of source `name`; a ConfigError naming the sources there are when there is none. */
  private sourceIndex(name: string): number {
    const index = this.sources.findIndex((spec) => spec.connector.name === name);
    if (index < 0) throw new ConfigError(`pipeline ${this.options.pipeline} has no source named ${name} (its sources: ${this.sources.map((spec) => spec.connector.name).join(', ')})`);
    return index;
  }

  /** Runs this process's share of the topology on `transport` until stop() or a fatal error. */
  async start(transport: Transport, options: StartOptions = {}): Promise<RunningTopology> {
    const { pipeline, serde } = this.options;
    const only = options.only ?? 'all';
    const metrics = options.metrics ?? new PipelineMetrics();
    const log = this.options.log ?? silentLogger;
    const specs = this.topicSpecs();
    const partitionsOf = new Map(specs.map((spec) => [spec.name, spec.partitions]));
    await transport.createTopics(specs);
    const tokens = await TopicTokenStore.open(transport, pipeline);
    const notifier = await TopicNotifier.open(transport, pipeline, log);

    const names = this.sources.map((s) => s.connector.name);
    const captures = new CaptureStarts(pipeline, names);
    let settle!: { resolve: () => void; reject: (error: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const parts: Array<{ done: Promise<void>; stop(): Promise<void> }> = [];
    let stopping: Promise<void> | undefined;
    // One way down, for stop() and for a fatal error anywhere: sources first, so what they wrote last
    // still flows through the stages being drained; then the consumers commit and leave.
    const stop = (error?: unknown) =>
      (stopping ??= (async () => {
        captures.stop(error);
        for (const part of parts) await part.stop().catch(() => {});
        await tokens.close();
        await notifier.close();
        await Promise.all(this.sources.map((s) => s.connector.close().catch(() => {})));
        if (error === undefined) settle.resolve();
        else settle.reject(error);
      })());
    const fail = (error: unknown) => void stop(error);

    let ownership: SourceOwnership | undefined;
    if (only !== 'sinks') {
      ownership = await SourceOwnership.join(transport, pipeline, (index) => this.startSource(index, transport, tokens, notifier, partitionsOf, metrics, captures, fail), log);
      parts.push({ done: ownership.done, stop: () => ownership!.leave() });
      const spread = this.sources.filter((s) => s.spread !== undefined);
      if (spread.length > 0) {
        const producer = await transport.producer();
        const sources = new Map(
          spread.map((s) => [
            s.connector.name,
            { connector: s.connector, writer: this.changeWriter(s.connector, producer, tokens, partitionsOf, metrics, false), stage: new OperatorStage(this.sourceOperators), chunkSize: s.chunkSize ?? DEFAULT_CHUNK_SIZE },
          ]),
        );
        const parallelism = Math.max(...spread.map((s) => s.spread!.parallelism ?? DEFAULT_SPREAD_PARALLELISM));
        const worker = await SnapshotWorker.start({ pipeline, transport, producer, sources, parallelism, log });
        parts.push({ done: worker.stopped, stop: () => worker.stop() });
      }
      if (this.partitions !== undefined) {
        parts.push(
          await RepartitionStage.start({
            pipeline,
            transport,
            serde,
            inputTopics: [...this.sources.map((s) => topics.change(pipeline, s.connector.name)), ...this.routedTopics],
            partitions: this.partitions,
            stage: new OperatorStage(this.repartitionOperators),
            metrics,
            log,
          }),
        );
      }
    }
    if (only !== 'sources') {
      for (const sink of this.sinks) {
        parts.push(await SinkRunner.start({ pipeline, transport, serde, sink: sink.connector, stage: new OperatorStage(sink.operators), limits: sink.limits, metrics, log }));
      }
    }
    for (const part of parts) part.done.catch(fail);
    log.info({ pipeline, only, sources: this.sources.length, sinks: only === 'sources' ? 0 : this.sinks.length }, 'topology started');
    return {
      done,
      metrics,
      get ownedSources() {
        return ownership?.owned ?? [];
      },
      capturing: async (source?: string) => {
        if (source !== undefined) this.sourceIndex(source);
        if (only === 'sinks') throw new ConfigError(`this process of pipeline ${pipeline} runs no source (only: 'sinks'): await capturing() in a process that runs the sources`);
        await captures.wait(source === undefined ? names : [source]);
      },
      stop: async () => {
        await stop();
        await done.catch(() => {});
      },
    };
  }

  private startSource(
    index: number,
    transport: Transport,
    tokens: TopicTokenStore,
    notifier: TopicNotifier,
    partitionsOf: Map<string, number>,
    metrics: PipelineMetrics,
    captures: CaptureStarts,
    fail: (error: unknown) => void,
  ): OwnedSource {
    const { pipeline } = this.options;
    const { connector, snapshot, chunkSize, spread } = this.sources[index]!;
    const exactlyOnce = this.options.exactlyOnce ?? false;
    const abort = new AbortController();
    const signals = new SignalInbox();
    const running = (async () => {
      const producer = await transport.producer(exactlyOnce ? { transactionalId: sourceTransactionalId(pipeline, connector.name) } : {});
      try {
        await connector.check();
        const writer = this.changeWriter(connector, producer, tokens, partitionsOf, metrics, exactlyOnce);
        await runSource({
          pipeline,
          connector,
          tokens,
          writer,
          flow: new FlowControl(this.options.maxInFlightEvents),
          snapshot,
          stage: new OperatorStage(this.sourceOperators),
          ...(this.partitions === undefined ? {} : { markers: { topic: topics.repartition(pipeline), stage: new OperatorStage(this.repartitionOperators) } }),
          maxBatch: this.options.maxBatch,
          signal: abort.signal,
          metrics,
          signals,
          notifier,
          onCapturing: () => captures.begun(connector.name),
          ...(chunkSize === undefined ? {} : { chunkSize }),
          ...(spread === undefined ? {} : { spread: { transport, rowsPerRange: chunkSize ?? DEFAULT_CHUNK_SIZE } }),
          ...(this.options.log ? { log: this.options.log } : {}),
        });
      } finally {
        metrics.sourcePhase(connector.name, 'stopped');
        await producer.close();
      }
    })()
      // runSource closes the inbox as its session stops; a source that ends before runSource took it (no
      // producer, a failed check, a lost log position) is closed here, or a request waiting in the inbox
      // would hold the control topic's batch, and with it the topology's stop, forever.
      .finally(() => signals.close(new Error(`source ${connector.name} stopped in this process`)));
    // Once asked to stop (the source moved to another process), a failing last write is expected: the
    // new owner's transactional producer fences this one. What it did not commit, the new owner redoes.
    running.catch((error: unknown) => {
      if (!abort.signal.aborted) fail(error);
    });
    return {
      signals,
      stop: async () => {
        abort.abort();
        await running.catch(() => {});
      },
    };
  }

  /** A source's writer into its change topic (and the topics its operators route to), counted in metrics. */
  private changeWriter(connector: SourceConnector, producer: Producer, tokens: TopicTokenStore, partitionsOf: Map<string, number>, metrics: PipelineMetrics, exactlyOnce: boolean): BatchWriter {
    const { pipeline, serde } = this.options;
    const changes = new ChangeWriter({
      producer,
      serde,
      tokens,
      changeTopic: topics.change(pipeline, connector.name),
      partitionsOf: (topic) => {
        const partitions = partitionsOf.get(topic);
        if (partitions === undefined) {
          throw new ConfigError(`an operator of source ${connector.name} routed an event to topic ${topic}, which no operator declared: pass { topics: ['${topic}'] } to through()`);
        }
        return partitions;
      },
      deadLetterTopic: topics.deadLetter(pipeline),
      exactlyOnce,
    });
    return {
      write: async (events: readonly ChangeEvent[], token?: SourceToken) => {
        await changes.write(events, token);
        metrics.sourceWrote(connector.name, events, token);
      },
    };
  }
}

function formatDescription(pipeline: string, exactlyOnce: boolean, stages: StageDescription[]): string {
  const lines = [`Topology: pipeline ${pipeline} (source → change topics: ${exactlyOnce ? 'exactly-once, transactional' : 'at least once'})`];
  const name = (io: StageDescription['inputs'][number] | StageDescription['outputs'][number]) => {
    if ('source' in io) return `Source: ${io.source} (${io.connector}, snapshot ${io.snapshot})`;
    if ('sink' in io) return `Sink: ${io.sink}`;
    return `Topic: ${io.topic} [${io.partitions} partition${io.partitions === 1 ? '' : 's'}${io.compacted ? ', compacted' : ''}]`;
  };
  stages.forEach((stage, i) => {
    lines.push(`  Sub-topology ${i}: ${stage.name}`, `    consumer group: ${stage.consumerGroup}`);
    for (const input of stage.inputs) lines.push(`    <-- ${name(input)}`);
    for (const op of stage.operators) lines.push(`    --- Processor: ${op}`);
    for (const output of stage.outputs) lines.push(`    --> ${name(output)}`);
  });
  return lines.join('\n');
}
