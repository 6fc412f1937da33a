/**
 * Avro schemas of MongoDB change events, as Debezium's MongoDB connector writes them: `before` and
 * `after` are Extended JSON strings and the key's `id` is `_id` as Extended JSON, so one schema per
 * collection fits any document shape and any `_id` type, and never evolves.
 */
import type { ColumnSchema } from '../topology/change-event.ts';
import { COLUMN_ATTR, envelopeSchema, eventNamespace, type EventSchemas } from './avro-schema.ts';
import { ID_FIELD } from './mongo-document.ts';

const EXTENDED_JSON = { type: 'string', 'connect.name': 'io.debezium.data.Json' };

const ID_COLUMN: ColumnSchema = { name: ID_FIELD, type: 'json', nullable: false };

export function collectionEventSchemas(prefix: string, db: string, collection: string): EventSchemas {
  const namespace = eventNamespace(prefix, db, collection);
  return {
    key: {
      type: 'record',
      name: 'Key',
      namespace,
      // Debezium names the field `id`; COLUMN_ATTR maps it back to the event key's `_id`.
      fields: [{ name: 'id', type: EXTENDED_JSON, [COLUMN_ATTR]: ID_COLUMN }],
    },
    value: envelopeSchema(namespace, 'mongodb', { before: EXTENDED_JSON, after: EXTENDED_JSON }),
  };
}
