/**
 * Configuration of a MongoDB source (connectors/mongodb/source.ts); docs/mongodb-source.md describes it.
 */
import { z } from 'zod';
import { ConfigError } from '../../topology/errors.ts';
import { DEFAULT_HEARTBEAT_INTERVAL_MS } from '../../topology/heartbeat.ts';
import { passwordsOf, SecretScrubber } from '../../topology/redact.ts';

export const mongoSourceConfigSchema = z.object({
  /** The source's name in the pipeline config. */
  name: z.string().min(1),
  /** A MongoDB connection string; its password never appears in logs or errors (see {@link redactMessage}). */
  url: z.string().min(1),
  database: z.string().min(1),
  collections: z
    .object({
      /** Collection names or `*` wildcards; absent: every collection of the database. */
      include: z.array(z.string().min(1)).optional(),
      /** Applied after include. */
      exclude: z.array(z.string().min(1)).default([]),
    })
    .default({ exclude: [] }),
  /**
   * `collection`: one change stream per collection (any server with change streams, and the only scope the
   * local test server has). `database`: one change stream for the database, filtered to the collections
   * (needs a replica set or sharded cluster); it also sees collections created later.
   */
  scope: z.enum(['collection', 'database']).default('collection'),
  /** Documents per snapshot chunk (one keyset query each). */
  chunkSize: z.number().int().positive().default(5000),
  /** Collections snapshotted at once. */
  parallelism: z.number().int().positive().default(4),
  /**
   * `updateLookup`: update events carry the document as it is when the event is read.
   * `whenAvailable` / `required`: post-images (MongoDB 6.0+, collections with changeStreamPreAndPostImages);
   * pre-images (`fullDocumentBeforeChange: whenAvailable`) are then asked for as well.
   */
  fullDocument: z.enum(['updateLookup', 'whenAvailable', 'required']).default('updateLookup'),
  /** The server's wait for new events on an empty getMore (awaitData). */
  maxAwaitTimeMS: z.number().int().positive().default(1000),
  /**
   * Change events per getMore (the cursor's batchSize; a real server also stops a batch at 16 MB). Each
   * getMore is a round trip, and mongo-java-server reads its whole oplog for each one and returns 1000
   * events when not told otherwise.
   */
  batchSize: z.number().int().positive().default(5000),
  /**
   * At most one token commit per this many ms at a resume token without captured changes (an idle
   * batch's post-batch resume token, a change of a collection left out), so an idle source's token keeps
   * up with the oplog (topology/heartbeat.ts); 0: none.
   */
  heartbeatIntervalMs: z.number().int().min(0).default(DEFAULT_HEARTBEAT_INTERVAL_MS),
});

/** Options of `new MongoSource(...)`; docs/mongodb-source.md describes them. */
export type MongoSourceConfigInput = z.input<typeof mongoSourceConfigSchema>;
export type MongoSourceConfig = z.output<typeof mongoSourceConfigSchema>;

export function parseMongoSourceConfig(input: MongoSourceConfigInput): MongoSourceConfig {
  const parsed = mongoSourceConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`).join('; ');
    throw new ConfigError(`MongoDB source ${JSON.stringify(input.name)}: ${problems}`);
  }
  return parsed.data;
}

/** Removes the url's password from a message (a driver error may quote the connection string or the password). */
export function redactMessage(message: string, url: string): string {
  return new SecretScrubber(passwordsOf(url)).scrub(message);
}

/** Whether `collection` is one the source covers, after include then exclude. */
export function coversCollection(config: Pick<MongoSourceConfig, 'collections'>, collection: string): boolean {
  if (collection.startsWith('system.')) return false;
  const { include, exclude } = config.collections;
  const included = include === undefined || include.some((pattern) => matchesPattern(pattern, collection));
  return included && !exclude.some((pattern) => matchesPattern(pattern, collection));
}

function matchesPattern(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return regex.test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
