import { BSON, MongoClient, type Document, type Filter } from 'mongodb';
import type { ColumnSchema, Row, Value } from '../../topology/change-event.ts';
import type { KeyRange, TargetLocation, VerifySourceReader, VerifyTable, VerifyTargetReader } from '../../topology/verify-reader.ts';
import { TYPE_PRESERVING_READ, canonicalEjson } from './change-events.ts';
import { coversCollection, type MongoSourceConfig } from './config.ts';
import { POSITION_FIELD, fromBson, sqlDocumentId } from './sink.ts';
import { readChunk } from './snapshot.ts';

/** A MongoDB collection's rows, as its events carry them: `_id` and `doc`, both canonical Extended JSON. */
const DOCUMENT_COLUMNS: ColumnSchema[] = [
  { name: '_id', type: 'json', nullable: false },
  { name: 'doc', type: 'json', nullable: false },
];

export interface MongoVerifySourceOptions {
  url: string;
  database: string;
  collections: MongoSourceConfig['collections'];
}

export interface MongoVerifyTargetOptions {
  url: string;
  database: string;
  /** Source `db.table` (`db.collection`) → target collection (the sink's `tables`). */
  collectionMap?: Readonly<Record<string, string>>;
}

/** The source's collections, read in `_id` order as its snapshot reads them. */
export class MongoVerifySource implements VerifySourceReader {
  private readonly client: MongoClient;

  constructor(private readonly options: MongoVerifySourceOptions) {
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5_000 });
  }

  async tables(): Promise<VerifyTable[]> {
    const db = this.client.db(this.options.database);
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    const tables: VerifyTable[] = [];
    for (const collection of names.filter((name) => coversCollection(this.options, name)).sort()) {
      tables.push({
        name: `${this.options.database}.${collection}`,
        db: this.options.database,
        table: collection,
        connector: 'mongodb',
        keyColumns: ['_id'],
        columns: DOCUMENT_COLUMNS,
        estimatedRows: await db.collection(collection).estimatedDocumentCount(),
      });
    }
    return tables;
  }

  async chunk(table: VerifyTable, after: readonly Value[] | undefined, limit: number): Promise<Row[]> {
    const documents = await readChunk(this.client.db(this.options.database).collection(table.table), after === undefined ? undefined : String(after[0]), limit);
    return documents.map((document) => documentRow(document, false));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** What the MongoDB sink wrote: documents of a MongoDB source, or rows of a SQL source (a field per column). */
export class MongoVerifyTarget implements VerifyTargetReader {
  private readonly client: MongoClient;

  constructor(private readonly options: MongoVerifyTargetOptions) {
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5_000 });
  }

  async locate(table: VerifyTable): Promise<TargetLocation> {
    const name = this.targetName(table);
    const found = await this.client.db(this.options.database).listCollections({ name }, { nameOnly: true }).toArray();
    return { name: `${this.options.database}.${name}`, exists: found.length > 0 };
  }

  async rows(table: VerifyTable, range: KeyRange): Promise<Row[]> {
    const collection = this.client.db(this.options.database).collection(this.targetName(table));
    // The `_id` the sink gave each key: the source document's own, or the SQL key's (sink.ts).
    const id = (key: readonly Value[]): unknown =>
      table.connector === 'mongodb' ? BSON.EJSON.parse(String(key[0]), { relaxed: false }) : sqlDocumentId(table.keyColumns, key);
    const documents = await collection.find(idRange(range.after && id(range.after), range.upTo && id(range.upTo)), TYPE_PRESERVING_READ).sort({ _id: 1 }).toArray();
    if (table.connector === 'mongodb') return documents.map((document) => documentRow(document, true));
    return documents.map((document) => {
      const row: Row = {};
      for (const column of table.columns) if (column.name in document) row[column.name] = fromBson(document[column.name], column);
      return row;
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private targetName(table: VerifyTable): string {
    return this.options.collectionMap?.[table.name] ?? table.table;
  }
}

/**
 * `_id` after `after` up to `upTo`. `$gt`/`$lte` on `_id` use its index but compare within one BSON type
 * bracket (snapshot.ts); a range whose ends are of different brackets, or that is open at its end, uses
 * `$expr`, which compares in the full BSON order (a scan: only the last chunk, or mixed `_id` types).
 */
function idRange(after: unknown, upTo: unknown): Filter<Document> {
  if (after === undefined && upTo === undefined) return {};
  if (after !== undefined && upTo !== undefined && bracket(after) === bracket(upTo)) return { _id: { $gt: after, $lte: upTo } } as Filter<Document>;
  if (after === undefined && upTo !== undefined) return { $expr: { $lte: ['$_id', { $literal: upTo }] } };
  const conditions = [{ $gt: ['$_id', { $literal: after }] }, ...(upTo === undefined ? [] : [{ $lte: ['$_id', { $literal: upTo }] }])];
  return { $expr: conditions.length === 1 ? conditions[0] : { $and: conditions } };
}

/** BSON's comparison bracket of a value: all numbers compare with each other, other types only among themselves. */
function bracket(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  const type = (value as { _bsontype?: string } | null)?._bsontype;
  if (type === 'Int32' || type === 'Double' || type === 'Long' || type === 'Decimal128') return 'number';
  return type ?? typeof value;
}

/**
 * A document as a row: `_id` and the document as canonical Extended JSON, its top-level fields in name
 * order (a replaced document may come back with them in another order); a target's position field left out.
 */
function documentRow(document: Document, target: boolean): Row {
  const fields = Object.keys(document).filter((field) => !(target && field === POSITION_FIELD)).sort();
  return { _id: canonicalEjson(document._id), doc: canonicalEjson(Object.fromEntries(fields.map((field) => [field, document[field]]))) };
}
