/** Rebuilds a TableSchema from the `rxcdc.*` attributes of a writer schema (see avro-schema.ts). */
import type { ColumnSchema, TableSchema } from '../topology/change-event.ts';
import { COLUMN_ATTR, TABLE_ATTR, type FieldSchema, type RecordSchema, type TableAttr } from './avro-schema.ts';

export function isRecordSchema(schema: unknown): schema is RecordSchema {
  return typeof schema === 'object' && schema !== null && (schema as RecordSchema).type === 'record' && Array.isArray((schema as RecordSchema).fields);
}

export function columnOf(field: FieldSchema): ColumnSchema | undefined {
  const column = field[COLUMN_ATTR] as ColumnSchema | undefined;
  return typeof column === 'object' && column !== null && typeof column.name === 'string' && typeof column.type === 'string'
    ? column
    : undefined;
}

/** The Value record an Envelope defines in its `before` union. */
export function valueRecordOf(envelope: RecordSchema): RecordSchema | undefined {
  const before = envelope.fields.find((field) => field.name === 'before')?.type;
  return Array.isArray(before) ? before.find(isRecordSchema) : undefined;
}

/** The table an Envelope's rows belong to, or undefined when the schema is not one of ours. */
export function tableSchemaOf(envelope: RecordSchema): TableSchema | undefined {
  const value = valueRecordOf(envelope);
  const attr = value?.[TABLE_ATTR] as TableAttr | undefined;
  if (value === undefined || typeof attr !== 'object' || attr === null) return undefined;
  const columns: ColumnSchema[] = [];
  for (const field of value.fields) {
    const column = columnOf(field);
    if (column === undefined) return undefined;
    columns.push(column);
  }
  return { db: attr.db, table: attr.table, columns, primaryKey: attr.primaryKey, uniqueKeys: attr.uniqueKeys };
}
