import {
  Binary,
  BSON,
  Decimal128,
  Long,
  MongoBulkWriteError,
  MongoClient,
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
const POSITION_FIELD = '__cdc_pos';

/** A document of the sink: any `_id` (a SQL key, or the source document's own). */
type DocumentId = string | number | boolean | null | Long | Binary | Decimal128 | Document;

/** A filter on `_id` (the driver's types expect ObjectId ids; the sink's ids are SQL keys too). */
function byId(id: DocumentId | { $in: DocumentId[] }, more: Document = {}): Filter<Document> {
  return { _id: id, ...more } as Filter<Document>;
}

/**
 * The MongoDB sink: per partition batch, ordered bulk writes of `replaceOne` (upsert) and
 * `deleteOne` by `_id`, each document carrying the source position that wrote it in `__cdc_pos`,
 * and the positions of absent keys in `<collection>__cdc_tombstones`.
 *
 * The target has no transactions (the test server has none either), so the rule is built from
 * single-document atomic writes:
 * - per key, last writer wins by position, like the SQL sinks (tombstones keep the position of
 *   deleted keys so that a replayed older insert does not bring a row back);
 * - a delete writes its tombstone first and then removes the document if older; a write checks the
 *   tombstones again after its upsert and takes its document back out if a newer delete landed
 *   meanwhile (the before key of a key-changing update lives in another partition, so two workers
 *   can touch one key at once; whichever order their writes take, the newer position wins).
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

  /** Turns a lost or unreachable server into a retriable error: the caller applies the batch again. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
        throw new TransientError(`${this.name}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  private async applyCollection(table: TableActions): Promise<RejectedRecord[]> {
    const name = this.options.collectionMap?.[`${table.sourceDb}.${table.sourceTable}`] ?? table.sourceTable;
    const db = this.client.db(this.options.database);
    const documents = db.collection(name);
    const tombstones = db.collection(`${name}__cdc_tombstones`);
    const columns = new Map(table.schema?.columns.map((column) => [column.name, column]) ?? []);
    const rejected: RejectedRecord[] = [];
    const items: Array<{ action: KeyAction; id: DocumentId }> = [];
    for (const action of table.actions) {
      try {
        items.push({ action, id: documentId(table, action) });
      } catch (error) {
        rejected.push({ record: action.record, reason: (error as Error).message });
      }
    }

    const stored = await storedPositions(documents, tombstones, items.map((item) => item.id));
    const newer = items.filter(({ action, id }) => {
      const position = stored.get(idKey(id));
      return position === undefined || comparePositions(position, action.position) < 0;
    });
    const deletes = newer.filter(({ action }) => action.row === null);
    const writes = newer.filter(({ action }) => action.row !== null);

    if (deletes.length > 0) {
      await tombstones.bulkWrite(
        deletes.map(({ action, id }) => ({
          updateOne: { filter: byId(id), update: { $max: { [POSITION_FIELD]: action.position } }, upsert: true },
        })),
        { ordered: true },
      );
    }
    const operations: AnyBulkWriteOperation<Document>[] = [
      ...deletes.map(({ action, id }) => ({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: { $lt: action.position } }) } })),
      ...writes.map(({ action, id }) => ({
        replaceOne: { filter: byId(id), replacement: { ...toDocument(table, action, columns), _id: id, [POSITION_FIELD]: action.position }, upsert: true },
      })),
    ];
    const operationItems = [...deletes, ...writes];
    const failed = await bulkWriteRejecting(documents, operations);
    for (const [index, reason] of failed) rejected.push({ record: operationItems[index]!.action.record, reason });

    const written = writes.filter((_, i) => !failed.has(deletes.length + i));
    if (written.length > 0) {
      // A newer delete of one of these keys may have landed between our read and our write.
      const newerDeletes = await tombstones.find(byId({ $in: written.map(({ id }) => id) })).toArray();
      const tombstoneOf = new Map(newerDeletes.map((doc) => [idKey(doc._id), String(doc[POSITION_FIELD])]));
      const cleanup: AnyBulkWriteOperation<Document>[] = [];
      for (const { action, id } of written) {
        const deletedAt = tombstoneOf.get(idKey(id));
        if (deletedAt !== undefined && comparePositions(deletedAt, action.position) > 0) {
          cleanup.push({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: action.position }) } });
        }
      }
      if (cleanup.length > 0) await documents.bulkWrite(cleanup, { ordered: true });
      await tombstones.bulkWrite(
        written.map(({ action, id }) => ({ deleteOne: { filter: byId(id, { [POSITION_FIELD]: { $lt: action.position } }) } })),
        { ordered: true },
      );
    }
    return rejected;
  }
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

async function storedPositions(documents: Collection, tombstones: Collection, ids: DocumentId[]): Promise<Map<string, string>> {
  const stored = new Map<string, string>();
  if (ids.length === 0) return stored;
  for (const collection of [documents, tombstones]) {
    for (const doc of await collection.find(byId({ $in: ids }), { projection: { [POSITION_FIELD]: 1 } }).toArray()) {
      if (doc[POSITION_FIELD] === undefined) continue;
      const position = String(doc[POSITION_FIELD]);
      const known = stored.get(idKey(doc._id));
      if (known === undefined || comparePositions(known, position) < 0) stored.set(idKey(doc._id), position);
    }
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
  const values = action.key.map((value) => toBson(value, undefined));
  return values.length === 1 ? (values[0] as DocumentId) : Object.fromEntries(table.keyColumns.map((column, i) => [column, values[i]]));
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
function toBson(value: Value, column: ColumnSchema | undefined): DocumentId {
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  if (Buffer.isBuffer(value)) return new Binary(value);
  if (typeof value === 'string' && (column?.type === 'decimal' || column?.type === 'numeric')) return Decimal128.fromString(value);
  return value;
}
