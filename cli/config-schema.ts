import { z } from 'zod';

/**
 * The pipeline config (YAML), validated before anything connects. Every option has a default a
 * serious deployment can keep; docs/config.md describes each.
 */
const url = (schemes: string[], what: string) =>
  z.string().refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
    message: `expected a ${schemes.map((s) => `${s}://`).join(' or ')} URL (${what})`,
  });

const tableGlob = z.string().regex(/^[^.\s]+\.[^.\s]+$/, 'expected db.table (globs allowed: shop.*)');

const snapshotMode = z.enum(['initial', 'never', 'always', 'when_needed']);

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
});

const mongodbSource = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -'),
  type: z.literal('mongodb'),
  url: url(['mongodb', 'mongodb+srv'], 'the source server'),
  database: z.string().min(1),
  collections: z.array(z.string().min(1)).min(1).optional(),
  exclude: z.array(z.string()).default([]),
  snapshot: snapshotMode.default('initial'),
  chunkSize: z.number().int().min(1).default(10_000),
  parallelism: z.number().int().min(1).max(64).default(2),
});

const sinkBase = {
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -'),
  /** Source db.table (or db.collection) → target table; unmapped tables keep their name. */
  tables: z.record(tableGlob, z.string().min(1)).default({}),
  batchSize: z.number().int().min(1).max(100_000).default(1_000),
};

const sink = z.discriminatedUnion('type', [
  z.strictObject({
    ...sinkBase,
    type: z.literal('mysql'),
    url: url(['mysql', 'mariadb'], 'the target server'),
    database: z.string().min(1),
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

export const configSchema = z.strictObject({
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
  }),
  schemaRegistry: z.strictObject({
    url: url(['http', 'https'], 'the schema registry'),
    username: z.string().optional(),
    password: z.string().optional(),
    subjectNameStrategy: z.enum(['topic', 'record', 'topic-record']).default('topic'),
  }),
  sources: z.array(z.discriminatedUnion('type', [mysqlSource, mongodbSource])).min(1),
  repartition: z.strictObject({ partitions: z.number().int().min(1).max(1024).default(8) }).default({ partitions: 8 }),
  sinks: z.array(sink).default([]),
  metrics: z
    .strictObject({ port: z.number().int().min(0).max(65535).default(9464), host: z.string().default('127.0.0.1') })
    .default({ port: 9464, host: '127.0.0.1' }),
});

export type PipelineConfig = z.infer<typeof configSchema>;
export type SourceConfig = PipelineConfig['sources'][number];
export type SinkConfig = PipelineConfig['sinks'][number];
