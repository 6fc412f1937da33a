/**
 * MongoDB documents in change events: canonical Extended JSON text (topology/change-event.ts), so
 * every BSON type (ObjectId, Decimal128, dates, binary subtypes) survives any document shape.
 */
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import type { Row } from '../topology/change-event.ts';

/** Row key under which `before`/`after` hold the document's Extended JSON. */
// The driver re-exports the `bson` package it ships with as BSON (no second copy of bson).
const { EJSON } = BSON;

export const DOCUMENT_FIELD = 'doc';
/** Row key under which the event key holds `_id`'s Extended JSON. */
export const ID_FIELD = '_id';

export function documentRow(document: Document): Row {
  return { [DOCUMENT_FIELD]: EJSON.stringify(document, { relaxed: false }) };
}

export function documentKey(id: unknown): Row {
  return { [ID_FIELD]: EJSON.stringify(id, { relaxed: false }) };
}

export function documentOf(row: Row): Document {
  return EJSON.parse(row[DOCUMENT_FIELD] as string, { relaxed: false }) as Document;
}

export function idOf(key: Row): unknown {
  return EJSON.parse(key[ID_FIELD] as string, { relaxed: false });
}
