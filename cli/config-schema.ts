import { z } from 'zod';
import { mongoSourceConfigSchema } from '../connectors/mongodb/config.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../topology/heartbeat.ts';
import { DEFAULT_SINK_BATCH_LIMITS } from '../topology/sink.ts';

/**
 * The pipeline config (YAML), validated before anything connects. Every option has a default a
 * serious deployment can keep; docs/config.md describes each.
 */
const url = (schemes: string[], what: string) =>
  z.string().refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
    message: `expected a ${schemes.map((s) => `${s}://`).join(' or ')} URL (${what})`,
  });

/** `db.table`: one dot, no blanks (globs are allowed where the config takes patterns). */
export const DB_TABLE = /^[^.\s]+\.[^.\s]+$/;

const tableGlob = z.string().regex(DB_TABLE, 'expected db.table (globs allowed: shop.*)');

const snapshotMode = z.enum(['initial', 'never', 'always', 'when_needed']);

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** '500ms', '30s', '1m', '24h', '7d' → milliseconds. */
function milliseconds(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
}

const duration = z.string().regex(DURATION, "expected a duration such as '30s', '1m', '24h' or '7d'").transform(milliseconds);

/** A source's heartbeat interval (topology/heartbeat.ts) in ms; 'off' (or 0s): none. */
const heartbeat = z
  .string()
  .refine((text) => text === 'off' || DURATION.test(text), "expected 'off' or a duration such as '10s' or '500ms'")
  .transform((text) => (text === 'off' ? 0 : milliseconds(text)))
  .default(DEFAULT_HEARTBEAT_INTERVAL_MS);

const mysqlSource = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -'),
  type: z.literal('mysql'),
  url: url(['mysql', 'mariadb'], 'the source server'),
  include: z.array(tableGlob).min(1).default(['*.*']),
  exclude: z.array(tableGlob).default([]),
  snapshot: snapshotMode.default('initial'),
  serverId: z.number().int().min(1).max(2 ** 32 - 1).optional(),
  chunkSize: z.number().int().min(1).default(10_000),
  parallelism: z.number().int().min(1).max(64).default(2),
  /** Key columns for tables without a primary key, by db.table. */
  keys: z.record(tableGlob, z.array(z.string()).min(1)).default({}),
  heartbeat,
  /** The initial snapshot read by every process of the pipeline, in key ranges of chunkSize rows (docs/spread-snapshot.md). */
  spreadSnapshot: z.boolean().default(false),
});

/** The MongoDB connector's own options (connectors/mongodb/config.ts), plus what the pipeline adds. */
const mongodbSource = mongoSourceConfigSchema
  .omit({ heartbeatIntervalMs: true })
  .extend({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -'),
    type: z.literal('mongodb'),
    url: url(['mongodb', 'mongodb+srv'], 'the source server'),
    snapshot: snapshotMode.default('initial'),
    heartbeat,
    spreadSnapshot: z
      .literal(false, { error: 'a MongoDB source snapshots in the process that owns it: spreadSnapshot is for MySQL/MariaDB sources, remove it' })
      .optional(),
  })
  .strict();

/** When a sink purges its tombstones (docs/sinks.md, "Purging tombstones"). */
const tombstones = z
  .strictObject({
    /** How long every partition must have been past a tombstone before it goes; 'never' keeps them all. */
    retention: z
      .string()
      .refine((text) => text === 'never' || DURATION.test(text), "expected 'never' or a duration such as '12h' or '7d'")
      .transform((text) => (text === 'never' ? null : milliseconds(text)))
      .prefault('24h'),
    purgeInterval: duration.refine((ms) => ms >= 1_000, 'expected at least 1s').prefault('1m'),
    batchSize: z.number().int().min(1).max(100_000).default(1_000),
  })
  .transform(({ retention, purgeInterval, batchSize }) => ({ retentionMs: retention, purgeIntervalMs: purgeInterval, batchSize }))
  .prefault({});

const sinkBase = {
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -'),
  /** Source db.table (or db.collection) → target table; unmapped tables keep their name. */
  tables: z.record(tableGlob, z.string().min(1)).default({}),
  /** Which source tables (collections) this sink applies: every sink reads the whole repartition topic. */
  include: z.array(tableGlob).min(1).default(['*.*']),
  exclude: z.array(tableGlob).default([]),
  tombstones,
  /** Records per apply (one target transaction); with maxBatchBytes, what bounds the sink's memory (topology/sink.ts). */
  maxBatchRows: z.number().int().min(1).max(100_000).default(DEFAULT_SINK_BATCH_LIMITS.maxBatchRows),
  /** Bytes of Kafka records (keys and values) per apply (the consumer fetches this much of a partition at a time, 1 MiB at least). */
  maxBatchBytes: z.number().int().min(1_024).max(64 * 2 ** 20).default(DEFAULT_SINK_BATCH_LIMITS.maxBatchBytes),
};

const sink = z.discriminatedUnion('type', [
  z.strictObject({
    ...sinkBase,
    type: z.literal('mysql'),
    url: url(['mysql', 'mariadb'], 'the target server').refine((value) => /^[a-z]+:\/\/[^/]+\/[^/?]+/.test(value), {
      message: 'expected the target database in the URL path (mysql://user:password@host:3306/database)',
    }),
    createTables: z.boolean().default(true),
  }),
  z.strictObject({
    ...sinkBase,
    type: z.literal('postgres'),
    url: url(['postgres', 'postgresql'], 'the target server'),
    schema: z.string().min(1).default('public'),
    createTables: z.boolean().default(true),
  }),
  z.strictObject({
    ...sinkBase,
    type: z.literal('mongodb'),
    url: url(['mongodb', 'mongodb+srv'], 'the target server'),
    database: z.string().min(1),
  }),
]);

const tls = z.union([
  z.boolean(),
  z.strictObject({
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
  }),
]);

/**
 * A user operator: a module (JavaScript; TypeScript where the running Node strips types) whose export is a
 * factory `(options) => OperatorFunction<ChangeEvent, ChangeEvent>`, placed in the source stage (before the
 * change topics) or the repartition stage (after repartition).
 */
const operator = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, ., _ or -'),
  /** A path relative to the config file (./ops/mask.js), an absolute path, or a package name. */
  module: z.string().min(1),
  /** The export holding the factory. */
  export: z.string().min(1).default('default'),
  /** Given to the factory as they are. */
  options: z.record(z.string(), z.unknown()).default({}),
  stage: z.enum(['source', 'repartition']).default('source'),
  /** An exception of the operator: stop the pipeline, or send its event to the dead-letter topic and go on. */
  onError: z.enum(['stop', 'dead-letter']).default('stop'),
  /** Topics the operator routes events to (source stage only); they are created and repartitioned too. */
  topics: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a Kafka topic name')).default([]),
});

export const configSchema = z
  .strictObject({
    /** Names the pipeline's topics, consumer groups and tokens: processes with one id share the work. */
    pipeline: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ., _ or -'),
    kafka: z.strictObject({
      brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1),
      clientId: z.string().default('cdc'),
      ssl: tls.default(false),
      sasl: z
        .strictObject({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
          username: z.string(),
          password: z.string(),
        })
        .optional(),
      replicationFactor: z.number().int().min(1).default(1),
      /** Change events and their token in one Kafka transaction (exactly-once into Kafka). */
      transactions: z.boolean().default(true),
      /** How long a consumer group waits for a silent (killed) process before its partitions and sources move. */
      sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000),
    }),
    schemaRegistry: z.strictObject({
      url: url(['http', 'https'], 'the schema registry'),
      username: z.string().optional(),
      password: z.string().optional(),
      /**
       * Subject names in the registry. `topic-record` (`<topic>-<record name>`) is the default because a
       * source's change topic carries every table of the source, each with its own schema; `topic`
       * (`<topic>-value`) fits only a source that captures a single table.
       */
      subjectNameStrategy: z.enum(['topic', 'record', 'topic-record']).default('topic-record'),
    }),
    sources: z.array(z.discriminatedUnion('type', [mysqlSource, mongodbSource])).min(1),
    /** Absent: 8 partitions when there are sinks, and no repartition stage at all without sinks (capture only). */
    repartition: z.strictObject({ partitions: z.number().int().min(1).max(1024).default(8) }).optional(),
    sinks: z.array(sink).default([]),
    operators: z.array(operator).default([]),
    /** Where `run` serves /metrics, /health and the web console; basic auth on every one of them when `auth` is set. */
    metrics: z
      .strictObject({
        port: z.number().int().min(0).max(65535).default(9464),
        host: z.string().default('127.0.0.1'),
        auth: z.strictObject({ username: z.string().min(1).regex(/^[^:]*$/, "expected no ':' (basic auth splits on it)"), password: z.string().min(1) }).optional(),
      })
      .default({ port: 9464, host: '127.0.0.1' }),
  })
  .superRefine((config, context) => {
    const repartitions = config.repartition !== undefined || config.sinks.length > 0;
    config.operators.forEach((op, index) => {
      if (op.stage === 'repartition' && !repartitions) {
        context.addIssue({ code: 'custom', path: ['operators', index, 'stage'], message: "'repartition' needs a repartition stage: add sinks or a repartition key, or use stage: source" });
      }
      if (op.stage === 'repartition' && op.topics.length > 0) {
        context.addIssue({ code: 'custom', path: ['operators', index, 'topics'], message: 'routing to topics happens before the change topics: use stage: source' });
      }
    });
  });

export type PipelineConfig = z.infer<typeof configSchema>;
export type OperatorConfig = PipelineConfig['operators'][number];
export type SourceConfig = PipelineConfig['sources'][number];
export type SinkConfig = PipelineConfig['sinks'][number];
