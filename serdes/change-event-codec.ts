/**
 * Per-schema codecs between change events and Avro records. Everything that depends on the schema
 * (avsc Types, name mappings, the TableSchema) is worked out once here, when a schema is first met,
 * so encoding or decoding an event is a walk over its values and nothing more.
 */
import avsc from 'avsc';
import type { Type } from 'avsc';
import type { ChangeEvent, ColumnSchema, Op, Row, RowIdentity, SourceInfo, TableSchema } from '../topology/change-event.ts';
import { CONNECTOR_ATTR, ENVELOPE_VERSION, fullName, type FieldSchema, type RecordSchema } from './avro-schema.ts';
import { bigintLong, DecimalString, NullableUnion, repeatedString, UnsignedBigint } from './avro-codecs.ts';
import { encodeAt } from './avro-tap.ts';
import { avroColumnType } from './mysql-types.ts';
import { DOCUMENT_FIELD } from './mongo-document.ts';
import { columnOf, isRecordSchema, tableSchemaOf, valueRecordOf } from './table-schema-from-avro.ts';
import type { AvroEncoder } from './wire-format.ts';

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

/** The fields of an Envelope's `source` whose value repeats from event to event (read by `repeatedString`). */
const REPEATING_SOURCE_FIELDS = new Set(['version', 'connector', 'name', 'snapshot', 'db', 'table']);

function fieldTypeWithCodecs(field: FieldSchema): unknown {
  if (field.name === 'source' && isRecordSchema(field.type)) return withRepeatingStrings(field.type);
  const column = columnOf(field);
  return column === undefined ? withCodecs(field.type) : columnType(field.type, column);
}

/** A source record whose repeating string fields read as `repeatedString`s. */
function withRepeatingStrings(source: RecordSchema): RecordSchema {
  return { ...source, fields: source.fields.map((field) => (REPEATING_SOURCE_FIELDS.has(field.name) && field.type === 'string' ? { ...field, type: repeatedString() } : field)) } as RecordSchema;
}

function withCodecs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withCodecs);
  if (!isRecordSchema(schema)) return schema;
  return { ...schema, fields: schema.fields.map((field) => ({ ...field, type: fieldTypeWithCodecs(field) })) };
}

// A new object each time: avsc keeps the names it defines in `registry` on the options it gets.
const typeOptions = () => ({ omitRecordMethods: true, wrapUnions: 'auto' as const, typeHook: nullableUnion });

/** avsc's hook: a NullableUnion for `["null", X]`, avsc's own type for anything else. */
function nullableUnion(schema: avsc.Schema, opts: avsc.ForSchemaOptions): Type | undefined {
  return NullableUnion.fits(schema) ? new NullableUnion(schema, opts) : undefined;
}

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

/** Writes values as one schema's Avro, and says where one does not fit. */
export interface AvroWriter<T> extends AvroEncoder<T> {
  /** Where (dotted field paths) `value` does not fit the schema: for an error, off the hot path. */
  invalidPaths(value: T): string[];
}

/** The dotted paths of `value` that `type` refuses. */
function invalidPaths(type: Type, value: unknown): string[] {
  const paths: string[] = [];
  type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
  return paths;
}

export class KeyCodec implements AvroWriter<Row> {
  readonly type: Type;
  readonly toAvro: RowMapper;
  readonly fromAvro: RowReader;

  constructor(readonly schema: RecordSchema) {
    this.type = avroType(schema);
    ({ toAvro: this.toAvro, fromAvro: this.fromAvro } = rowMapping(schema));
  }

  encode(key: Row, buf: Buffer, pos: number): number {
    return encodeAt(this.type, this.toAvro(key), buf, pos);
  }

  invalidPaths(key: Row): string[] {
    return invalidPaths(this.type, this.toAvro(key));
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

interface EnvelopeFieldTypes {
  before: Type;
  after: Type;
  /** A record of the fields after `after`: its bytes are theirs. */
  tail: Type;
}

/** The types EnvelopeCodec.encode writes an Envelope with (`type` is the Envelope's); throws for another layout. */
function envelopeFieldTypes(schema: RecordSchema, type: Type): EnvelopeFieldTypes {
  const [before, after, ...tail] = schema.fields;
  if (before?.name !== 'before' || after?.name !== 'after') throw new Error(`${fullName(schema)} does not begin with the before and after fields`);
  const fields = (type as avsc.types.RecordType).fields;
  return { before: fields[0]!.type, after: fields[1]!.type, tail: avroType({ type: 'record', name: `${schema.name}Tail`, namespace: schema.namespace, fields: tail }) };
}

/** Whether `tail` is the Avro form of the event's source, op and ts_ms. */
function sameTail(tail: AvroEnvelopeTail, event: ChangeEvent): boolean {
  const { source } = tail;
  const from = event.source;
  return (
    tail.op === event.op &&
    tail.ts_ms === event.tsMs &&
    source.position === from.position &&
    source.ts_ms === from.tsMs &&
    source.table === from.table &&
    source.db === from.db &&
    source.name === from.name &&
    source.connector === from.connector &&
    source.snapshot === (from.snapshot ? 'true' : 'false') &&
    source.tx_id === (from.txId ?? null)
  );
}

/** Copies `bytes` to `pos` of `buf`: the end, or minus the bytes missing (avsc's encode contract). */
function copyInto(bytes: Buffer, buf: Buffer, pos: number): number {
  const end = pos + bytes.length;
  if (end > buf.length) return buf.length - end;
  buf.set(bytes, pos);
  return end;
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
        { name: 'source', type: { type: 'record', name: source.name, namespace: source.namespace, fields: [{ name: 'db', type: repeatedString() }, { name: 'table', type: repeatedString() }] } },
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

/** The Envelope's fields after its rows, { source, op, ts_ms }: in a snapshot the same for every row of a chunk. */
interface AvroEnvelopeTail {
  source: AvroSource;
  op: string;
  ts_ms: number;
}

export class EnvelopeCodec implements AvroWriter<ChangeEvent> {
  readonly type: Type;
  /** The table the rows belong to (MySQL/MariaDB), shared by every event decoded with this codec. */
  readonly table: TableSchema | undefined;
  private readonly rowToAvro: (row: Row | null) => unknown;
  private readonly rowFromAvro: (value: unknown) => Row | null;
  // Encoding's types, made on first use (a codec that only decodes needs none).
  private fieldTypes: EnvelopeFieldTypes | undefined;
  // The tail of the last event written, reused by encode (one object), and its bytes once a second event in
  // a row has the same: rows that share a source (a snapshot chunk's) then copy them, field values compared
  // rather than objects, as an operator may have changed one in place.
  private readonly tail: AvroEnvelopeTail = {
    source: { version: ENVELOPE_VERSION, connector: 'mysql', name: '', ts_ms: 0, snapshot: 'false', db: '', table: '', position: '', tx_id: null },
    op: 'c',
    ts_ms: 0,
  };
  private tailBytes: Buffer | undefined;

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

  /** The event as this codec's Avro record (a new object: encode does without it). */
  toAvro(event: ChangeEvent): AvroEnvelope {
    return { before: this.rowToAvro(event.before), after: this.rowToAvro(event.after), ...this.tailOfEvent(event) };
  }

  /** Writes the Envelope field by field: an Avro record's bytes are its fields' bytes one after another. */
  encode(event: ChangeEvent, buf: Buffer, pos: number): number {
    const types = (this.fieldTypes ??= envelopeFieldTypes(this.schema, this.type));
    let end = encodeAt(types.before, this.rowToAvro(event.before), buf, pos);
    if (end >= 0) end = encodeAt(types.after, this.rowToAvro(event.after), buf, end);
    if (end < 0) return end;
    if (sameTail(this.tail, event)) {
      this.tailBytes ??= types.tail.toBuffer(this.tail);
      return copyInto(this.tailBytes, buf, end);
    }
    this.tailBytes = undefined;
    return encodeAt(types.tail, this.tailOfEvent(event, this.tail), buf, end);
  }

  invalidPaths(event: ChangeEvent): string[] {
    return invalidPaths(this.type, this.toAvro(event));
  }

  /** The event's source, op and ts_ms as Avro, into `into` (a new object when not given). */
  private tailOfEvent(event: ChangeEvent, into?: AvroEnvelopeTail): AvroEnvelopeTail {
    const from = event.source;
    const tail = into ?? { source: { ...this.tail.source }, op: '', ts_ms: 0 };
    const { source } = tail;
    source.connector = from.connector;
    source.name = from.name;
    source.ts_ms = from.tsMs;
    source.snapshot = from.snapshot ? 'true' : 'false';
    source.db = from.db;
    source.table = from.table;
    source.position = from.position;
    source.tx_id = from.txId ?? null;
    tail.op = event.op;
    tail.ts_ms = event.tsMs;
    return tail;
  }

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
