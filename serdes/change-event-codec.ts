/**
 * Per-schema codecs between change events and Avro records. Everything that depends on the schema
 * (avsc Types, name mappings, the TableSchema) is worked out once here, when a schema is first met,
 * so encoding or decoding an event is a walk over its values and nothing more.
 */
import avsc from 'avsc';
import type { Type } from 'avsc';
import type { ChangeEvent, ColumnSchema, Op, Row, RowIdentity, SourceInfo, TableSchema } from '../topology/change-event.ts';
import { CONNECTOR_ATTR, ENVELOPE_VERSION, type FieldSchema, type RecordSchema } from './avro-schema.ts';
import { bigintLong, DecimalString, UnsignedBigint } from './avro-codecs.ts';
import { avroColumnType } from './mysql-types.ts';
import { DOCUMENT_FIELD } from './mongo-document.ts';
import { columnOf, isRecordSchema, tableSchemaOf, valueRecordOf } from './table-schema-from-avro.ts';

/** The Avro primitive under a schema: 'long' for "long" and { type: "long", ... }. */
function primitiveOf(schema: unknown): unknown {
  return typeof schema === 'object' && schema !== null ? (schema as { type: unknown }).type : schema;
}

/** A column's schema with its codec's avsc type in place of the plain one (same bytes). */
function columnType(schema: unknown, column: ColumnSchema): unknown {
  if (Array.isArray(schema)) return schema.map((branch) => columnType(branch, column));
  switch (avroColumnType(column)?.codec) {
    case 'bigint':
      return primitiveOf(schema) === 'long' ? bigintLong : schema;
    case 'decimal':
      return primitiveOf(schema) === 'bytes' ? new DecimalString(schema as avsc.Schema) : schema;
    case 'unsigned-bigint':
      return primitiveOf(schema) === 'bytes' ? new UnsignedBigint(schema as avsc.Schema) : schema;
    default:
      return schema;
  }
}

function fieldTypeWithCodecs(field: FieldSchema): unknown {
  const column = columnOf(field);
  return column === undefined ? withCodecs(field.type) : columnType(field.type, column);
}

function withCodecs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withCodecs);
  if (!isRecordSchema(schema)) return schema;
  return { ...schema, fields: schema.fields.map((field) => ({ ...field, type: fieldTypeWithCodecs(field) })) };
}

// A new object each time: avsc keeps the names it defines in `registry` on the options it gets.
const typeOptions = () => ({ omitRecordMethods: true, wrapUnions: 'auto' as const });

/** The avsc Type of one of our schemas, reading and writing canonical JS values. */
export function avroType(schema: RecordSchema): Type {
  return avsc.Type.forSchema(withCodecs(schema) as avsc.Schema, typeOptions());
}

/** The avsc Type of one column's field (self-contained: columns reference no named type). */
export function fieldAvroType(field: FieldSchema): Type {
  return avsc.Type.forSchema(fieldTypeWithCodecs(field) as avsc.Schema, typeOptions());
}

type RowMapper = (row: Row) => unknown;
type RowReader = (record: Record<string, unknown>) => Row;
const same = <T>(value: T): T => value;

/**
 * Row <-> Avro record for a record whose field names may differ from the column names (adjusted
 * Avro names, Debezium's `id` for `_id`): identity, without a copy, when none differs.
 */
function rowMapping(record: RecordSchema): { toAvro: RowMapper; fromAvro: RowReader } {
  const pairs = record.fields.map((field) => [field.name, columnOf(field)?.name ?? field.name] as const);
  if (pairs.every(([avro, column]) => avro === column)) return { toAvro: same, fromAvro: same as RowReader };
  return {
    toAvro: (row) => {
      const out: Record<string, unknown> = {};
      for (const [avro, column] of pairs) out[avro] = row[column];
      return out;
    },
    fromAvro: (record) => {
      const row: Row = {};
      for (const [avro, column] of pairs) row[column] = record[avro] as Row[string];
      return row;
    },
  };
}

export class KeyCodec {
  readonly type: Type;
  readonly toAvro: RowMapper;
  readonly fromAvro: RowReader;

  constructor(readonly schema: RecordSchema) {
    this.type = avroType(schema);
    ({ toAvro: this.toAvro, fromAvro: this.fromAvro } = rowMapping(schema));
  }
}

interface AvroSource {
  version: string;
  connector: SourceInfo['connector'];
  name: string;
  ts_ms: number;
  snapshot: string;
  db: string;
  table: string;
  position: string;
  tx_id: string | null;
}

export interface AvroEnvelope {
  before: unknown;
  after: unknown;
  source: AvroSource;
  op: string;
  ts_ms: number;
}

const OPS = new Set<string>(['c', 'u', 'd', 'r', 't']);

function assertOp(op: string): asserts op is Op {
  if (!OPS.has(op)) throw new Error(`unknown op ${JSON.stringify(op)}`);
}

/**
 * Reads an Envelope's op and source table and skips the rest (the rows are skipped, not built): avsc
 * resolves the writer's schema into a reader schema that has only those fields. Avro's resolution rules
 * match records by full name, so the reader records take the writer's names.
 */
export class IdentityReader {
  readonly type: Type;
  readonly resolver: avsc.Resolver;

  constructor(writer: RecordSchema) {
    const source = writer.fields.find((field) => field.name === 'source')?.type;
    if (!isRecordSchema(source)) throw new Error(`${writer.name} has no source record`);
    const reader = {
      type: 'record',
      name: writer.name,
      namespace: writer.namespace,
      fields: [
        { name: 'op', type: 'string' },
        { name: 'source', type: { type: 'record', name: source.name, namespace: source.namespace, fields: [{ name: 'db', type: 'string' }, { name: 'table', type: 'string' }] } },
      ],
    };
    this.type = avsc.Type.forSchema(reader as avsc.Schema, typeOptions());
    this.resolver = this.type.createResolver(avroType(writer));
  }

  /** The identity in an Envelope read with `type` (only op and source.db/table are there); throws for an unknown op. */
  read(envelope: Pick<AvroEnvelope, 'op' | 'source'>, key: Row): RowIdentity {
    assertOp(envelope.op);
    return { op: envelope.op, key, source: envelope.source };
  }
}

export class EnvelopeCodec {
  readonly type: Type;
  /** The table the rows belong to (MySQL/MariaDB), shared by every event decoded with this codec. */
  readonly table: TableSchema | undefined;
  private readonly rowToAvro: (row: Row | null) => unknown;
  private readonly rowFromAvro: (value: unknown) => Row | null;

  constructor(readonly schema: RecordSchema) {
    this.type = avroType(schema);
    this.table = tableSchemaOf(schema);
    if (schema[CONNECTOR_ATTR] === 'mongodb') {
      this.rowToAvro = (row) => (row === null ? null : row[DOCUMENT_FIELD]);
      this.rowFromAvro = (value) => (value === null ? null : { [DOCUMENT_FIELD]: value as string });
    } else {
      const value = valueRecordOf(schema);
      if (value === undefined) throw new Error(`${schema.name} has no row record in its before field`);
      const { toAvro, fromAvro } = rowMapping(value);
      this.rowToAvro = (row) => (row === null ? null : toAvro(row));
      this.rowFromAvro = (record) => (record === null ? null : fromAvro(record as Record<string, unknown>));
    }
  }

  /**
   * The event as this codec's Avro record, in one object the codec reuses: valid until the next call, which
   * is all encoding needs (it writes the record before it encodes the next event) and saves two objects per event.
   */
  toAvro(event: ChangeEvent): AvroEnvelope {
    const { envelope } = this;
    const { source } = envelope;
    const from = event.source;
    envelope.before = this.rowToAvro(event.before);
    envelope.after = this.rowToAvro(event.after);
    source.connector = from.connector;
    source.name = from.name;
    source.ts_ms = from.tsMs;
    source.snapshot = from.snapshot ? 'true' : 'false';
    source.db = from.db;
    source.table = from.table;
    source.position = from.position;
    source.tx_id = from.txId ?? null;
    envelope.op = event.op;
    envelope.ts_ms = event.tsMs;
    return envelope;
  }

  private readonly envelope: AvroEnvelope = {
    before: null,
    after: null,
    source: { version: ENVELOPE_VERSION, connector: 'mysql', name: '', ts_ms: 0, snapshot: 'false', db: '', table: '', position: '', tx_id: null },
    op: 'c',
    ts_ms: 0,
  };

  /** Throws when the record is no change event (an op we do not know). */
  fromAvro(envelope: AvroEnvelope, key: Row): ChangeEvent {
    assertOp(envelope.op);
    const s = envelope.source;
    const source: SourceInfo = {
      connector: s.connector,
      name: s.name,
      db: s.db,
      table: s.table,
      position: s.position,
      tsMs: s.ts_ms,
      // Debezium also writes "last" and "incremental" for snapshot rows.
      snapshot: s.snapshot !== 'false',
    };
    if (s.tx_id !== null) source.txId = s.tx_id;
    const event: ChangeEvent = {
      op: envelope.op as Op,
      key,
      before: this.rowFromAvro(envelope.before),
      after: this.rowFromAvro(envelope.after),
      source,
      tsMs: envelope.ts_ms,
    };
    if (this.table !== undefined) event.schema = this.table;
    return event;
  }
}
