import { BSON, type Collection, type Document } from 'mongodb';

const { EJSON } = BSON;

export interface CollectionDifference {
  /** Canonical EJSON of the `_id`. */
  key: string;
  kind: 'missing in target' | 'extra in target' | 'differs';
}

export interface CollectionComparison {
  sourceRows: number;
  targetRows: number;
  chunks: number;
  differingChunks: number;
  differences: CollectionDifference[];
}

export interface CollectionDiffOptions {
  chunkSize?: number;
  maxDifferences?: number;
  /** Fields the target adds of its own (the sink's position field), left out of the comparison. */
  ignoreFields?: readonly string[];
}

/**
 * Compares two collections document by document, both read in `_id` order and merged like a sort-merge
 * join, so memory stays at one chunk per side whatever their size. Documents are compared as canonical
 * Extended JSON (types included: an Int32 and a Long of one value differ), top-level field order aside.
 */
export async function compareCollections(source: Collection<Document>, target: Collection<Document>, options: CollectionDiffOptions = {}): Promise<CollectionComparison> {
  const chunkSize = options.chunkSize ?? 1_000;
  const maxDifferences = options.maxDifferences ?? 20;
  const ignored = new Set(options.ignoreFields ?? []);
  const result: CollectionComparison = { sourceRows: 0, targetRows: 0, chunks: 0, differingChunks: 0, differences: [] };
  const ours = source.find({}, { sort: { _id: 1 }, batchSize: chunkSize });
  const theirs = target.find({}, { sort: { _id: 1 }, batchSize: chunkSize });
  let a = await ours.next();
  let b = await theirs.next();
  let inChunk = 0;
  let chunkDiffers = false;
  const differ = (key: unknown, kind: CollectionDifference['kind']) => {
    chunkDiffers = true;
    if (result.differences.length < maxDifferences) result.differences.push({ key: EJSON.stringify(key, { relaxed: false }), kind });
  };
  try {
    while (a !== null || b !== null) {
      const order = a === null ? 1 : b === null ? -1 : compareIds(a._id, b._id);
      if (order < 0) {
        differ(a!._id, 'missing in target');
        result.sourceRows++;
        a = await ours.next();
      } else if (order > 0) {
        differ(b!._id, 'extra in target');
        result.targetRows++;
        b = await theirs.next();
      } else {
        if (canonical(a!, ignored) !== canonical(b!, ignored)) differ(a!._id, 'differs');
        result.sourceRows++;
        result.targetRows++;
        a = await ours.next();
        b = await theirs.next();
      }
      if (++inChunk === chunkSize || (a === null && b === null)) {
        result.chunks++;
        if (chunkDiffers) result.differingChunks++;
        inChunk = 0;
        chunkDiffers = false;
      }
    }
  } finally {
    await Promise.all([ours.close(), theirs.close()]);
  }
  return result;
}

/** Both cursors are in the server's `_id` order; canonical EJSON orders equal-typed ids the same way. */
function compareIds(x: unknown, y: unknown): number {
  const [p, q] = [EJSON.stringify(x, { relaxed: false }), EJSON.stringify(y, { relaxed: false })];
  if (p === q) return 0;
  // Mixed id types: BSON's type order decides, which the server already applied to both cursors alike.
  return bsonOrder(x) - bsonOrder(y) || (typeof x === 'number' && typeof y === 'number' ? x - y : p < q ? -1 : 1);
}

function bsonOrder(value: unknown): number {
  if (value === null) return 1;
  if (typeof value === 'number' || (value as { _bsontype?: string })?._bsontype === 'Long' || (value as { _bsontype?: string })?._bsontype === 'Decimal128') return 2;
  if (typeof value === 'string') return 3;
  if (value instanceof Date) return 9;
  const type = (value as { _bsontype?: string })?._bsontype;
  if (type === 'ObjectId') return 7;
  if (type === 'Binary') return 5;
  return 4;
}

function canonical(document: Document, ignored: ReadonlySet<string>): string {
  const keys = Object.keys(document).filter((key) => !ignored.has(key)).sort();
  return EJSON.stringify(Object.fromEntries(keys.map((key) => [key, document[key]])), { relaxed: false });
}
