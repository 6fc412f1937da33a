import {
  Binary,
  BSON,
  Decimal128,
  Long,
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoServerSelectionError,
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  type Filter,
} from 'mongodb';
import type { ColumnSchema, Row, Value } from '../../topology/change-event.ts';
import { comparePositions } from '../../topology/change-event.ts';
import { TransientError } from '../../topology/errors.ts';
import type { ApplyResult, RejectedRecord, SinkConnector, SinkContext, SinkRecord } from '../../topology/sink.ts';
import { reduceBatch, skippedRecords, TRUNCATE_FLOORS, type KeyAction, type TableActions } from '../sink/key-actions.ts';
import { lastPositions, PROGRESS_TABLE, purgeSettings, TombstonePurger, type PartitionProgress, type PurgeTarget, type TombstoneSettings } from '../sink/tombstone-purge.ts';

/** Options of `new MongoSink(...)`; docs/sinks.md describes the sink. */
export interface MongoSinkOptions {
  name: string;
  /** mongodb://host:port/... (credentials stay in the URL, never in errors). */
  url: string;
  database: string;
  /** Source `db.table` (or `db.collection`) → target collection; unlisted ones keep their name. */
  collectionMap?: Record<string, string>;
  /** When tombstones are purged (docs/sinks.md); by default after 24 h, checked every minute. */
  tombstones?: Partial<TombstoneSettings>;
}

const { EJSON } = BSON;
/** The field each target document keeps its source position in (see the position rule). */
export const POSITION_FIELD = '__cdc_pos';

/** A document of the sink: any `_id` (a SQL key, or the source document's own). */
export type DocumentId = string | number | boolean | null | Long | Binary | Decimal128 | Document;

/** A filter on `_id` (the driver's types expect ObjectId ids; the sink's ids are SQL keys too). */
function byId(id: DocumentId | { $in: DocumentId[] }, more: Document = {}): Filter<Document> {
  return { _id: id, ...more } as Filter<Document>;
}

/**
 * The MongoDB sink: per partition batch and collection, ordered bulk writes of `replaceOne` (upsert)
 * and `deleteOne` by `_id`, each document carrying the source position that wrote it in `__cdc_pos`,
 * and the positions of absent keys in `<collection>__cdc_tombstones`.
 *
 * The target has no transactions (the test server has none either), so the rule is built from
 * single-document atomic writes:
 * - per key, last writer wins by position, like the SQL sinks (tombstones keep the position of
 *   deleted keys so that a replayed older insert does not bring a row back);
 * - the rows of a key are written only by its own partition (one worker at a time), so the batch
 *   reads the stored positions once and then writes by `_id` alone. The one write that comes from
 *   another partition is the delete of a key-changing update's before key: it writes its tombstone
 *   first and deletes the document only if older (`__cdc_pos` in the filter), and a batch that wrote
 *   documents reads their tombstones again after its bulk write and takes back out any document a
 *   newer delete meant to remove meanwhile. Whichever order the two workers' writes take, the newer
 *   position wins;
 * - a truncate keeps its position as the collection's floor (`__cdc_sink_truncates`), written before
 *   its `deleteMany`; a batch skips actions older than the floor, and reads it again after its writes
 *   (with the tombstones) to take back out what a concurrent truncate passed (docs/sinks.md).
 *
 * Filters name `_id` alone wherever the rule allows: the test server (mongo-java-server) uses the
 * `_id` index only for such filters and scans the collection for any other, so a batch costs four
 * round trips of indexed operations (both reads at once, the tombstones, the documents, the re-check).
 *
 * Unique keys besides the primary key: the sink creates no unique index in MongoDB, so a stale row
 * never blocks a current one, and per-key last-writer-wins alone gives the source's final state
 * (two documents may hold the same unique value for a moment, until the older one's later event
 * arrives). A collection with a unique index the user made is not supported.
 */
export class MongoSink implements SinkConnector, PurgeTarget {
  readonly name: string;
  private readonly client: MongoClient;
  /** Set at start when tombstones are purged: the progress documents to write, and the background purge. */
  private tracking?: { context: SinkContext; purger: TombstonePurger };
  /** The collections this process wrote, with the source each one's positions come from. */
  private readonly sources = new Map<string, string>();

  constructor(private readonly options: MongoSinkOptions) {
    this.name = options.name;
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5_000 });
  }

  async start(context?: SinkContext): Promise<void> {
    await this.guard(() => this.client.connect());
    const settings = purgeSettings(this.options.tombstones, context);
    if (settings && context) {
      this.tracking = { context, purger: new TombstonePurger(settings, context, this) };
      this.tracking.purger.start();
    }
  }

  async close(): Promise<void> {
    await this.tracking?.purger.stop();
    await this.client.close();
  }

  async apply(batch: readonly SinkRecord[]): Promise<ApplyResult> {
    const { tables, rejected } = reduceBatch(batch);
    const applied = new Set<SinkRecord>();
    for (const table of tables) rejected.push(...(await this.guard(() => this.applyCollection(table, applied))));
    if (this.tracking && batch.length > 0) await this.guard(() => this.recordProgress(batch));
    return { rejected, skipped: skippedRecords(batch, applied, rejected) };
  }

  /** One purge pass at `now` (the background purge runs one every purge interval); nothing when the sink does not purge. */
  async purgeTombstones(now: number): Promise<void> {
    await this.tracking?.purger.pass(now);
  }

  async readProgress(): Promise<PartitionProgress[]> {
    const { topic } = this.tracking!.context;
    const progress = await this.guard(() => this.progress().find({ '_id.topic': topic, '_id.sink': this.name }).toArray());
    return progress.map((doc) => ({ source: String(doc._id.source), partition: Number(doc._id.partition), position: String(doc[POSITION_FIELD]) }));
  }

  /**
   * In batches: the ids of up to `batchSize` tombstones below the floor, then one `deleteMany` of those
   * ids that checks the position again (a newer delete may have moved a tombstone up meanwhile).
   */
  async purgeBelow(source: string, floor: string, batchSize: number, purged: (table: string, count: number) => void): Promise<void> {
    const db = this.client.db(this.options.database);
    for (const [name, collectionSource] of this.sources) {
      if (collectionSource !== source) continue;
      const tombstones = db.collection(tombstoneCollection(name));
      const below = { [POSITION_FIELD]: { $lt: floor } };
      let found = batchSize;
      while (found === batchSize) {
        const ids = await this.guard(async () => (await tombstones.find(below, { projection: { _id: 1 }, limit: batchSize, promoteLongs: false }).toArray()).map((doc) => doc._id));
        found = ids.length;
        if (found === 0) break;
        const { deletedCount } = await this.guard(() => tombstones.deleteMany(byId({ $in: ids }, below)));
        purged(name, deletedCount);
      }
    }
  }

  private progress(): Collection<ProgressDocument> {
    return this.client.db(this.options.database).collection<ProgressDocument>(PROGRESS_TABLE);
  }

  /** The batch's partition has applied up to its last record of each source (after the batch's writes). */
  private async recordProgress(batch: readonly SinkRecord[]): Promise<void> {
    const { topic } = this.tracking!.context;
    const partition = batch[0]!.partition;
    await this.progress().bulkWrite(
      [...lastPositions(batch)].map(([source, position]) => ({
        replaceOne: { filter: { _id: { topic, sink: this.name, source, partition } }, replacement: { [POSITION_FIELD]: position }, upsert: true },
      })),
      { ordered: true },
    );
  }

  /** Turns a lost, unreachable or restarting server into a retriable error: the caller applies the batch again. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isTransientMongo(error)) throw new TransientError(`${this.name}: ${(error as Error).message}`, { cause: error });
      throw error;
    }
  }

  /** Applies one collection's actions; adds to `applied` the records of the actions newer than the target's positions. */
  private async applyCollection(table: TableActions, applied: Set<SinkRecord>): Promise<RejectedRecord[]> {
    const name = this.options.collectionMap?.[`${table.sourceDb}.${table.sourceTable}`] ?? table.sourceTable;
    const db = this.client.db(this.options.database);
    const documents = db.collection(name);
    const tombstones = db.collection(tombstoneCollection(name));
    if (!this.sources.has(name)) {
      // The purge finds tombstones by position.
      if (this.tracking) await tombstones.createIndex({ [POSITION_FIELD]: 1 });
      this.sources.set(name, table.sourceName);
    }
    const floors = db.collection<FloorDocument>(TRUNCATE_FLOORS);
    // A `t` event: the collection's truncate floor first, then the documents its source wrote before it go
    // (see SqlSink.truncate). A writer reads the floor again after its writes (settleWritten): of a
    // truncate and a concurrent older write, each writes before it reads the other's, so one sees the other.
    if (table.truncatedBefore !== undefined) {
      await floors.updateOne({ _id: name }, { $max: { [POSITION_FIELD]: table.truncatedBefore } }, { upsert: true });
      await documents.deleteMany({ [POSITION_FIELD]: { $lt: table.truncatedBefore } });
    }
    const columns = new Map(table.schema?.columns.map((column) => [column.name, column]) ?? []);
    const rejected: RejectedRecord[] = [];
    let items: Item[] = [];
    for (const action of table.actions) {
      try {
        const id = documentId(table, action);
        items.push({ action, id, idKey: idKey(id) });
      } catch (error) {
        rejected.push({ record: action.record, reason: (error as Error).message });
      }
    }
    if (items.length === 0) return rejected;

    const ids = items.map((item) => item.id);
    const [stored, storedTombstones, floor] = await Promise.all([storedPositions(documents, ids), storedPositions(tombstones, ids), truncateFloor(floors, name)]);
    const belowFloor = (position: string | undefined) => position !== undefined && floor !== undefined && comparePositions(position, floor) < 0;
    // Actions older than the floor are skipped. A document of their key still below it (an earlier try
    // wrote it after the truncate's deleteMany, and was cut before it read the floor again) goes now.
    const leftBehind = items.filter(({ action, idKey }) => belowFloor(action.position) && belowFloor(stored.get(idKey)));
    if (leftBehind.length > 0) {
      await documents.bulkWrite(leftBehind.map(({ id, idKey }) => ({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: stored.get(idKey) }) } })), { ordered: true });
    }
    items = items.filter(({ action }) => !belowFloor(action.position));
    const olderThan = (position: string | undefined, action: KeyAction) => position === undefined || comparePositions(position, action.position) < 0;
    const documentOlder = ({ action, idKey }: Item) => stored.has(idKey) && olderThan(stored.get(idKey), action);
    // The document and the tombstone are two writes, not one transaction: a batch cut between them (a
    // crash, a lost connection and the retry) leaves a delete's tombstone without its document removed.
    // So a delete is still due while either one is older than it, each judged on its own.
    const deletes = items.filter((item) => item.action.row === null && (olderThan(storedTombstones.get(item.idKey), item.action) || documentOlder(item)));
    const due = items.filter(({ action, idKey }) => action.row !== null && olderThan(stored.get(idKey), action) && olderThan(storedTombstones.get(idKey), action));
    // Written by an earlier try of this batch that may have been cut before it settled them.
    const rewritten = items.filter(({ action, idKey }) => action.row !== null && stored.get(idKey) === action.position);
    // A row the target cannot hold (a value BSON cannot keep exactly) is that record's rejection, never the batch's.
    const writes: Array<Item & { document: Document }> = [];
    for (const item of due) {
      try {
        writes.push({ ...item, document: toDocument(table, item.action, columns) });
      } catch (error) {
        if (!(error instanceof UnrepresentableValueError)) throw error;
        rejected.push({ record: item.action.record, reason: error.message });
      }
    }
    for (const { action } of [...deletes, ...writes]) applied.add(action.record);

    // Tombstones before the documents: a writer of the key in another partition re-checks them after its write.
    if (deletes.length > 0) {
      await tombstones.bulkWrite(
        deletes.map(({ action, id }) => ({ updateOne: { filter: byId(id), update: { $max: { [POSITION_FIELD]: action.position } }, upsert: true } })),
        { ordered: true },
      );
    }
    const removals = deletes.filter((item) => documentOlder(item) || removesAnotherPartitionsKey(item.action));
    const operations: AnyBulkWriteOperation<Document>[] = [
      ...removals.map(({ action, id }) => ({
        deleteOne: { filter: removesAnotherPartitionsKey(action) ? byId(id, { [POSITION_FIELD]: { $lt: action.position } }) : byId(id) },
      })),
      ...writes.map(({ action, id, document }) => ({
        replaceOne: { filter: byId(id), replacement: { ...document, _id: id, [POSITION_FIELD]: action.position }, upsert: true },
      })),
    ];
    const operationItems = [...removals, ...writes];
    const failed = await bulkWriteRejecting(documents, operations);
    for (const [index, reason] of failed) rejected.push({ record: operationItems[index]!.action.record, reason });

    const written = [...writes.filter((_, i) => !failed.has(removals.length + i)), ...rewritten];
    if (written.length > 0) await settleWritten(documents, tombstones, () => truncateFloor(floors, name), written);
    return rejected;
  }
}

/**
 * After documents are written: takes back out each one that a newer delete (from another partition)
 * meant to remove meanwhile, or that a truncate raised the floor over meanwhile, and drops the older
 * tombstones of keys that are present again.
 */
async function settleWritten(documents: Collection, tombstones: Collection, readFloor: () => Promise<string | undefined>, written: readonly Item[]): Promise<void> {
  const [deletedAt, floor] = await Promise.all([storedPositions(tombstones, written.map(({ id }) => id)), readFloor()]);
  const cleanup: AnyBulkWriteOperation<Document>[] = [];
  const obsolete: AnyBulkWriteOperation<Document>[] = [];
  for (const { action, id, idKey } of written) {
    if (floor !== undefined && comparePositions(action.position, floor) < 0) {
      cleanup.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: action.position }) } });
      continue;
    }
    const position = deletedAt.get(idKey);
    if (position === undefined) continue;
    if (comparePositions(position, action.position) > 0) cleanup.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: action.position }) } });
    // Only if still older: a newer delete may land at any moment.
    else obsolete.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: { $lt: action.position } }) } });
  }
  if (cleanup.length > 0) await documents.bulkWrite(cleanup, { ordered: true });
  if (obsolete.length > 0) await tombstones.bulkWrite(obsolete, { ordered: true });
}

/** The truncate floor of collection `name`: the position of the newest `t` applied to it. */
async function truncateFloor(floors: Collection<FloorDocument>, name: string): Promise<string | undefined> {
  const floor = await floors.findOne({ _id: name });
  return floor ? floor[POSITION_FIELD] : undefined;
}

/** A collection's truncate floor. */
interface FloorDocument {
  _id: string;
  [POSITION_FIELD]: string;
}

function tombstoneCollection(name: string): string {
  return `${name}__cdc_tombstones`;
}

/** A sink group's progress on one partition for one source: the position of the last record it applied. */
interface ProgressDocument {
  _id: { topic: string; sink: string; source: string; partition: number };
  [POSITION_FIELD]: string;
}

/** An action of a batch with its document `_id`. */
interface Item {
  action: KeyAction;
  id: DocumentId;
  /** `idKey(id)` */
  idKey: string;
}

/** The delete of a key-changing update's before key: that key's own events are in another partition. */
function removesAnotherPartitionsKey(action: KeyAction): boolean {
  return action.row === null && action.record.event.op === 'u';
}

/** Server error codes that mean "not now" (shutdown, step-down, network): the same set the driver retries reads and writes on. */
const TRANSIENT_SERVER_CODES = new Set([6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

function isTransientMongo(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (!(error instanceof MongoError)) return false;
  return error.hasErrorLabel(MongoErrorLabel.RetryableWriteError) || (typeof error.code === 'number' && TRANSIENT_SERVER_CODES.has(error.code));
}

/** Runs an ordered bulk write to the end: a failed operation is reported and the rest runs after it. */
async function bulkWriteRejecting(collection: Collection, operations: AnyBulkWriteOperation<Document>[]): Promise<Map<number, string>> {
  const failed = new Map<number, string>();
  let start = 0;
  while (start < operations.length) {
    try {
      await collection.bulkWrite(operations.slice(start), { ordered: true });
      return failed;
    } catch (error) {
      const writeError = error instanceof MongoBulkWriteError ? [error.writeErrors].flat()[0] : undefined;
      if (!writeError) throw error;
      failed.set(start + writeError.index, writeError.errmsg ?? 'write rejected');
      start += writeError.index + 1;
    }
  }
  return failed;
}

/** `__cdc_pos` per `idKey` of the documents of `collection` with these ids (one indexed read). */
async function storedPositions(collection: Collection, ids: DocumentId[]): Promise<Map<string, string>> {
  const stored = new Map<string, string>();
  if (ids.length === 0) return stored;
  // Ids come back as they were written (a BIGINT key as Long, not as a number), so idKey matches.
  for (const doc of await collection.find(byId({ $in: ids }), { projection: { [POSITION_FIELD]: 1 }, promoteLongs: false }).toArray()) {
    if (doc[POSITION_FIELD] !== undefined) stored.set(idKey(doc._id), String(doc[POSITION_FIELD]));
  }
  return stored;
}

/** Identity of an `_id` value inside this process. */
function idKey(id: unknown): string {
  return EJSON.stringify({ id }, { relaxed: false });
}

/**
 * `_id` of an action: for a MongoDB source, the `_id` of the document (`key._id` is its canonical
 * Extended JSON); for a SQL source, the primary key (one column: its value; several: a document).
 */
function documentId(table: TableActions, action: KeyAction): DocumentId {
  const { event } = action.record;
  if (event.source.connector === 'mongodb') {
    const image = action.row ?? event.before;
    if (image && typeof image.doc === 'string') {
      const doc = EJSON.parse(image.doc, { relaxed: false }) as Document;
      if (doc._id !== undefined) return doc._id as DocumentId;
    }
    return EJSON.parse(String(event.key._id), { relaxed: false }) as DocumentId;
  }
  return sqlDocumentId(table.keyColumns, action.key);
}

function toDocument(table: TableActions, action: KeyAction, columns: Map<string, ColumnSchema>): Document {
  const row = action.row as Row;
  if (action.record.event.source.connector === 'mongodb') {
    if (typeof row.doc !== 'string') throw new TypeError('a MongoDB event carries no Extended JSON `doc`');
    return EJSON.parse(row.doc, { relaxed: false }) as Document;
  }
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [column, toBson(value, columns.get(column))]));
}

/**
 * Canonical value → BSON (docs/types.md, "MongoDB sink"): a 64-bit integer as Long when Int64 holds it,
 * else (BIGINT UNSIGNED above 2^63-1) as Decimal128, exact and compared by value; DECIMAL as Decimal128;
 * bytes as Binary. A value BSON cannot hold exactly throws {@link UnrepresentableValueError}: never a rounded
 * or wrapped one.
 */
export function toBson(value: Value, column: ColumnSchema | undefined): DocumentId {
  if (typeof value === 'bigint') return value >= INT64_MIN && value <= INT64_MAX ? Long.fromBigInt(value) : exactDecimal128(value.toString(), column);
  if (Buffer.isBuffer(value)) return new Binary(value);
  if (typeof value === 'string' && column !== undefined && DECIMAL_TYPES.has(column.type)) return exactDecimal128(value, column);
  return value;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** MySQL's DECIMAL and its synonyms. */
const DECIMAL_TYPES = new Set(['decimal', 'numeric', 'dec', 'fixed']);
/** Decimal128's significant digits. */
const DECIMAL128_DIGITS = 34;

/** A value the MongoDB target cannot hold exactly: the record is rejected (dead-lettered) with this reason. */
export class UnrepresentableValueError extends Error {}

/**
 * Decimal text → Decimal128, exactly or not at all. Trailing zeros beyond 34 digits go into the exponent
 * (the same number; {@link fromBson} gives the column's scale back); any other digit beyond 34 refuses.
 */
function exactDecimal128(text: string, column: ColumnSchema | undefined): Decimal128 {
  const needed = text.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
  if (needed > DECIMAL128_DIGITS) {
    throw new UnrepresentableValueError(
      `column ${column?.name ?? '_id'}: a value of ${needed} significant digits does not fit MongoDB's Decimal128 (${DECIMAL128_DIGITS} digits); rejected rather than rounded`,
    );
  }
  return Decimal128.fromString(text);
}

/**
 * A value read back (with `promoteValues: false`, `promoteLongs: false`) → the canonical value {@link toBson}
 * was given for `column`: Long and an integral Decimal128 of a BIGINT → bigint, Decimal128 of a DECIMAL → its
 * plain text with the column's scale, Binary → Buffer, Int32 and Double → number.
 */
export function fromBson(value: unknown, column: ColumnSchema): Value {
  if (value === null || value === undefined || typeof value !== 'object') return (value ?? null) as Value;
  if (value instanceof Long) return value.toBigInt();
  if (value instanceof Decimal128) {
    const text = plainDecimal(value.toString(), column.type === 'bigint' ? 0 : (column.scale ?? 0));
    return column.type === 'bigint' && /^-?\d+$/.test(text) ? BigInt(text) : text;
  }
  if (value instanceof Binary) return Buffer.from(value.buffer.subarray(0, value.position));
  if (value instanceof BSON.Int32 || value instanceof BSON.Double) return value.valueOf();
  return value as Value;
}

/**
 * Decimal128's text (`1E-30`, `1.2300E+5`, `-0.50`) in plain notation with at least `scale` fraction digits,
 * as MySQL writes a DECIMAL(p, scale): `0.000000000000000000000000000001`. NaN and Infinity stay as they are.
 */
function plainDecimal(text: string, scale: number): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  // The value is digits × 10^-point.
  let digits = `${whole}${fraction}`;
  let point = fraction.length - Number(exponent);
  if (point < 0) {
    digits += '0'.repeat(-point);
    point = 0;
  }
  while (point > scale && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    point--;
  }
  digits = digits.padStart(point + 1, '0') + '0'.repeat(scale - Math.min(point, scale));
  point = Math.max(point, scale);
  const integer = digits.slice(0, digits.length - point).replace(/^0+(?=\d)/, '');
  const plain = point === 0 ? integer : `${integer}.${digits.slice(digits.length - point)}`;
  return /[1-9]/.test(plain) ? `${sign}${plain}` : plain;
}

/** The `_id` the sink gives a row of a SQL source with this key (one column: its value; several: a document). */
export function sqlDocumentId(keyColumns: readonly string[], key: readonly Value[]): DocumentId {
  const values = key.map((value) => toBson(value, undefined));
  return values.length === 1 ? (values[0] as DocumentId) : Object.fromEntries(keyColumns.map((column, i) => [column, values[i]]));
}
