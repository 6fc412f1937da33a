/**
 * Avro schemas of change events, Debezium's shape: key record `<prefix>.<db>.<table>.Key`, value
 * `<prefix>.<db>.<table>.Envelope` { before, after: Value | null, source, op, ts_ms }.
 * The `rxcdc.*` attributes carry what Avro cannot say (MySQL column metadata, keys, original names),
 * so a reader rebuilds the TableSchema from the writer schema alone (table-schema-from-avro.ts).
 */
import type { ColumnSchema, SourceInfo, TableSchema } from '../topology/change-event.ts';
import { avroFieldNames, avroName } from './avro-name.ts';
import { avroColumnType } from './mysql-types.ts';
import { SchemaIncompatibleError } from './errors.ts';

export interface FieldSchema {
  name: string;
  type: unknown;
  default?: unknown;
  [attribute: string]: unknown;
}

export interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: FieldSchema[];
  [attribute: string]: unknown;
}

/** On fields: the column's ColumnSchema, original name included. */
export const COLUMN_ATTR = 'rxcdc.column';
/** On the Value record: { db, table, primaryKey, uniqueKeys } of the TableSchema. */
export const TABLE_ATTR = 'rxcdc.table';
/** On the Envelope: which connector's rows it holds ('mysql' or 'mongodb'). */
export const CONNECTOR_ATTR = 'rxcdc.connector';

/** Version of this envelope layout, in `source.version` as Debezium puts its own version there. */
export const ENVELOPE_VERSION = 'rxcdc-1';

export type TableAttr = Pick<TableSchema, 'db' | 'table' | 'primaryKey' | 'uniqueKeys'>;

export interface EventSchemas {
  key: RecordSchema;
  value: RecordSchema;
}

/** `<prefix>.<db>.<table>` with each part made a valid Avro name. */
export function eventNamespace(prefix: string, db: string, table: string): string {
  return `${avroName(prefix)}.${avroName(db)}.${avroName(table)}`;
}

export function fullName(record: RecordSchema): string {
  return record.namespace === undefined ? record.name : `${record.namespace}.${record.name}`;
}

export function sourceSchema(connector: SourceInfo['connector']): RecordSchema {
  return {
    type: 'record',
    name: 'Source',
    namespace: `rxcdc.connector.${connector}`,
    fields: [
      { name: 'version', type: 'string' },
      { name: 'connector', type: 'string' },
      { name: 'name', type: 'string' },
      { name: 'ts_ms', type: 'long' },
      // A string as in Debezium ("true"/"false"), so its consumers read it unchanged.
      { name: 'snapshot', type: 'string', default: 'false' },
      { name: 'db', type: 'string' },
      { name: 'table', type: 'string' },
      { name: 'position', type: 'string' },
      { name: 'tx_id', type: ['null', 'string'], default: null },
    ],
  };
}

/** The Envelope around rows of schema `row` (defined in `before`, referenced by name in `after`). */
export function envelopeSchema(
  namespace: string,
  connector: SourceInfo['connector'],
  row: { before: unknown; after: unknown },
): RecordSchema {
  return {
    type: 'record',
    name: 'Envelope',
    namespace,
    [CONNECTOR_ATTR]: connector,
    fields: [
      { name: 'before', type: ['null', row.before], default: null },
      { name: 'after', type: ['null', row.after], default: null },
      { name: 'source', type: sourceSchema(connector) },
      { name: 'op', type: 'string' },
      { name: 'ts_ms', type: 'long' },
    ],
  };
}

function columnFields(table: TableSchema, columns: readonly ColumnSchema[]): FieldSchema[] {
  const names = avroFieldNames(columns.map((column) => column.name));
  return columns.map((column, i) => {
    const mapped = avroColumnType(column);
    if (mapped === undefined) {
      throw new SchemaIncompatibleError(`${table.db}.${table.table}`, column.name, `MySQL type ${column.type} has no Avro mapping`);
    }
    return {
      name: names[i] as string,
      type: column.nullable ? ['null', mapped.schema] : mapped.schema,
      default: column.nullable ? null : mapped.implicitDefault,
      [COLUMN_ATTR]: column,
    };
  });
}

/** Key and Envelope schemas of a MySQL/MariaDB table. */
export function tableEventSchemas(prefix: string, table: TableSchema): EventSchemas {
  const namespace = eventNamespace(prefix, table.db, table.table);
  const keyColumns = table.primaryKey.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (column === undefined) {
      throw new SchemaIncompatibleError(`${table.db}.${table.table}`, name, 'primary-key column is not among the columns');
    }
    return column;
  });
  const tableAttr: TableAttr = {
    db: table.db,
    table: table.table,
    primaryKey: table.primaryKey,
    uniqueKeys: table.uniqueKeys,
  };
  const value: RecordSchema = {
    type: 'record',
    name: 'Value',
    namespace,
    [TABLE_ATTR]: tableAttr,
    fields: columnFields(table, table.columns),
  };
  return {
    key: { type: 'record', name: 'Key', namespace, fields: columnFields(table, keyColumns) },
    value: envelopeSchema(namespace, 'mysql', { before: value, after: `${namespace}.Value` }),
  };
}
