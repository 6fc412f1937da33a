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
import type { RejectedRecord, SinkConnector, SinkRecord } from '../../topology/sink.ts';
import { reduceBatch, type KeyAction, type TableActions } from '../sink/key-actions.ts';

export interface MongoSinkOptions {
  name: string;
  /** mongodb://host:port/... (credentials stay in the URL, never in errors). */
  url: string;
  database: string;
  /** Source `db.table` (or `db.collection`) → target collection; unlisted ones keep their name. */
  collectionMap?: Record<string, string>;
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
 *   position wins.
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
export class MongoSink implements SinkConnector {
  readonly name: string;
  private readonly client: MongoClient;

  constructor(private readonly options: MongoSinkOptions) {
    this.name = options.name;
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5_000 });
  }

  async start(): Promise<void> {
    await this.guard(() => this.client.connect());
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async apply(batch: readonly SinkRecord[]): Promise<{ rejected: RejectedRecord[] }> {
    const { tables, rejected } = reduceBatch(batch);
    for (const table of tables) rejected.push(...(await this.guard(() => this.applyCollection(table))));
    return { rejected };
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

  private async applyCollection(table: TableActions): Promise<RejectedRecord[]> {
    const name = this.options.collectionMap?.[`${table.sourceDb}.${table.sourceTable}`] ?? table.sourceTable;
    const db = this.client.db(this.options.database);
    const documents = db.collection(name);
    const tombstones = db.collection(`${name}__cdc_tombstones`);
    // A `t` event: the documents its source wrote before it go (see SqlSink.truncate), then the batch's newer actions apply.
    if (table.truncatedBefore !== undefined) await documents.deleteMany({ [POSITION_FIELD]: { $lt: table.truncatedBefore } });
    const columns = new Map(table.schema?.columns.map((column) => [column.name, column]) ?? []);
    const rejected: RejectedRecord[] = [];
    const items: Item[] = [];
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
    const [stored, storedTombstones] = await Promise.all([storedPositions(documents, ids), storedPositions(tombstones, ids)]);
    const olderThan = (position: string | undefined, action: KeyAction) => position === undefined || comparePositions(position, action.position) < 0;
    const documentOlder = ({ action, idKey }: Item) => stored.has(idKey) && olderThan(stored.get(idKey), action);
    // The document and the tombstone are two writes, not one transaction: a batch cut between them (a
    // crash, a lost connection and the retry) leaves a delete's tombstone without its document removed.
    // So a delete is still due while either one is older than it, each judged on its own.
    const deletes = items.filter((item) => item.action.row === null && (olderThan(storedTombstones.get(item.idKey), item.action) || documentOlder(item)));
    const writes = items.filter(({ action, idKey }) => action.row !== null && olderThan(stored.get(idKey), action) && olderThan(storedTombstones.get(idKey), action));
    // Written by an earlier try of this batch that may have been cut before it settled them.
    const rewritten = items.filter(({ action, idKey }) => action.row !== null && stored.get(idKey) === action.position);

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
      ...writes.map(({ action, id }) => ({
        replaceOne: { filter: byId(id), replacement: { ...toDocument(table, action, columns), _id: id, [POSITION_FIELD]: action.position }, upsert: true },
      })),
    ];
    const operationItems = [...removals, ...writes];
    const failed = await bulkWriteRejecting(documents, operations);
    for (const [index, reason] of failed) rejected.push({ record: operationItems[index]!.action.record, reason });

    const written = [...writes.filter((_, i) => !failed.has(removals.length + i)), ...rewritten];
    if (written.length > 0) await settleWritten(documents, tombstones, written);
    return rejected;
  }
}

/**
 * After documents are written: takes back out each one that a newer delete (from another partition)
 * meant to remove meanwhile, and drops the older tombstones of keys that are present again.
 */
async function settleWritten(documents: Collection, tombstones: Collection, written: readonly Item[]): Promise<void> {
  const deletedAt = await storedPositions(tombstones, written.map(({ id }) => id));
  if (deletedAt.size === 0) return;
  const cleanup: AnyBulkWriteOperation<Document>[] = [];
  const obsolete: AnyBulkWriteOperation<Document>[] = [];
  for (const { action, id, idKey } of written) {
    const position = deletedAt.get(idKey);
    if (position === undefined) continue;
    if (comparePositions(position, action.position) > 0) cleanup.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: action.position }) } });
    // Only if still older: a newer delete may land at any moment.
    else obsolete.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: { $lt: action.position } }) } });
  }
  if (cleanup.length > 0) await documents.bulkWrite(cleanup, { ordered: true });
  if (obsolete.length > 0) await tombstones.bulkWrite(obsolete, { ordered: true });
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

/** Canonical value → BSON: 64-bit integers as Long, DECIMAL as Decimal128, bytes as Binary. */
export function toBson(value: Value, column: ColumnSchema | undefined): DocumentId {
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  if (Buffer.isBuffer(value)) return new Binary(value);
  if (typeof value === 'string' && (column?.type === 'decimal' || column?.type === 'numeric')) return Decimal128.fromString(value);
  return value;
}

/**
 * A value read back (with `promoteValues: false`, `promoteLongs: false`) → the canonical value {@link toBson}
 * was given: Long → bigint, Decimal128 → its text, Binary → Buffer, Int32 and Double → number.
 */
export function fromBson(value: unknown): Value {
  if (value === null || value === undefined || typeof value !== 'object') return (value ?? null) as Value;
  if (value instanceof Long) return value.toBigInt();
  if (value instanceof Decimal128) return value.toString();
  if (value instanceof Binary) return Buffer.from(value.buffer);
  if (value instanceof BSON.Int32 || value instanceof BSON.Double) return value.valueOf();
  return value as Value;
}

/** The `_id` the sink gives a row of a SQL source with this key (one column: its value; several: a document). */
export function sqlDocumentId(keyColumns: readonly string[], key: readonly Value[]): DocumentId {
  const values = key.map((value) => toBson(value, undefined));
  return values.length === 1 ? (values[0] as DocumentId) : Object.fromEntries(keyColumns.map((column, i) => [column, values[i]]));
}
