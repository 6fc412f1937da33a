/**
 * Change events as Avro in the Confluent wire format. Schemas are derived from the event's
 * TableSchema (or the MongoDB collection), registered once, and their ids and avsc Types cached by
 * TableSchema object and by id, so encoding or decoding a batch is one pass with no HTTP call and no
 * schema work unless a schema is new.
 */
import type { Resolver, Type } from 'avsc';
import type { ChangeEvent, Row, RowIdentity, TableSchema } from '../topology/change-event.ts';
import { CdcError } from '../topology/errors.ts';
import type { EncodedRecord, EventSerde, RawRecord } from '../topology/serde.ts';
import { CONNECTOR_ATTR, fullName, tableEventSchemas, type EventSchemas, type RecordSchema } from './avro-schema.ts';
import { avroType, EnvelopeCodec, IdentityReader, KeyCodec, type AvroEnvelope, type AvroWriter } from './change-event-codec.ts';
import { assertBackward } from './compatibility.ts';
import { DecodeError } from './errors.ts';
import { collectionEventSchemas } from './mongo-avro-schema.ts';
import type { SchemaRegistryPort } from './registry.ts';
import { topicNameStrategy, type SubjectNameStrategy } from './subject-name.ts';
import { isRecordSchema } from './table-schema-from-avro.ts';
import { frameError, readPayload, schemaIdOf, WireWriter } from './wire-format.ts';

/** Options of `new AvroEventSerde(...)`. */
export interface AvroSerdeOptions {
  registry: SchemaRegistryPort;
  /** First part of every record name, as Debezium's `topic.prefix`: `<prefix>.<db>.<table>.Envelope`. */
  prefix: string;
  /** Default: TopicNameStrategy (`<topic>-key`, `<topic>-value`). */
  subjectNameStrategy?: SubjectNameStrategy;
  /**
   * Value schemas (Envelopes) to read each topic with, as an older consumer would: events written
   * with any compatible later version are resolved into this shape. Default: the writer's schema.
   */
  readerSchemas?: ReadonlyMap<string, RecordSchema>;
}

interface Writer {
  keyId: number;
  valueId: number;
  key: KeyCodec;
  value: EnvelopeCodec;
}

/** How to read one writer schema's values: the Avro type (and resolver) to decode with, then `read`. */
interface EnvelopeReader<R> {
  type: Type;
  resolver: Resolver | undefined;
  read(envelope: AvroEnvelope, key: Row): R;
}

type ValueReader = EnvelopeReader<ChangeEvent>;

/** A schema id that cannot be read, with the reason every record carrying it gets. */
type Unreadable = string;

/** Change events as Avro in the Confluent wire format, Debezium-shaped envelopes, schemas in a schema registry (docs/types.md). */
export class AvroEventSerde implements EventSerde {
  private readonly registry: SchemaRegistryPort;
  private readonly prefix: string;
  private readonly subjectName: SubjectNameStrategy;
  private readonly readerSchemas: ReadonlyMap<string, RecordSchema>;
  private readonly wire = new WireWriter();

  // Encode: by TableSchema object, then topic; MongoDB by topic, db, collection.
  private readonly tableWriters = new WeakMap<TableSchema, Map<string, Writer>>();
  private readonly collectionWriters = new Map<string, Map<string, Map<string, Writer>>>();
  // Encode misses, by topic and value schema text: one registration for equal schemas.
  private readonly preparing = new Map<string, Promise<Writer>>();

  // Decode: by writer schema id (and, for values, by topic when a reader schema applies).
  private readonly schemas = new Map<number, RecordSchema | Unreadable>();
  private readonly fetching = new Map<number, Promise<void>>();
  private readonly keyReaders = new Map<number, KeyCodec | Unreadable>();
  private readonly valueReaders = new Map<string, Map<number, ValueReader | Unreadable>>();
  private readonly readerCodecs = new Map<string, EnvelopeCodec>();
  private readonly identityReaders = new Map<number, IdentityReader | Unreadable>();

  constructor(options: AvroSerdeOptions) {
    this.registry = options.registry;
    this.prefix = options.prefix;
    this.subjectName = options.subjectNameStrategy ?? topicNameStrategy;
    this.readerSchemas = options.readerSchemas ?? new Map();
  }

  async encode(topic: string, events: readonly ChangeEvent[]): Promise<EncodedRecord[]> {
    const records = new Array<EncodedRecord>(events.length);
    // A batch is mostly one table's events: its writer is looked up again only when the table changes.
    let writer: Writer | undefined;
    let writerTable: TableSchema | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as ChangeEvent;
      if (writer === undefined || event.schema === undefined || event.schema !== writerTable) {
        writer = this.cachedWriter(topic, event) ?? (await this.prepareWriter(topic, event));
        writerTable = event.schema;
      }
      const key = event.op === 't' ? null : this.frame(writer.keyId, writer.key, event.key, event);
      records[i] = { key, value: this.frame(writer.valueId, writer.value, event, event) };
    }
    return records;
  }

  async decode(records: readonly RawRecord[]): Promise<Array<ChangeEvent | Error>> {
    await this.loadSchemas(records);
    const events = new Array<ChangeEvent | Error>(records.length);
    for (let i = 0; i < records.length; i++) events[i] = this.decodeRecord(records[i] as RawRecord);
    return events;
  }

  async identify(records: readonly RawRecord[]): Promise<Array<RowIdentity | Error>> {
    await this.loadSchemas(records);
    const identities = new Array<RowIdentity | Error>(records.length);
    for (let i = 0; i < records.length; i++) identities[i] = this.identifyRecord(records[i] as RawRecord);
    return identities;
  }

  private cachedWriter(topic: string, event: ChangeEvent): Writer | undefined {
    if (event.schema !== undefined) return this.tableWriters.get(event.schema)?.get(topic);
    return this.collectionWriters.get(topic)?.get(event.source.db)?.get(event.source.table);
  }

  private eventSchemas(event: ChangeEvent): EventSchemas {
    if (event.schema !== undefined) return tableEventSchemas(this.prefix, event.schema);
    if (event.source.connector === 'mongodb') return collectionEventSchemas(this.prefix, event.source.db, event.source.table);
    throw new CdcError('INTERNAL', `a ${event.source.connector} event of ${event.source.db}.${event.source.table} carries no schema`);
  }

  private async prepareWriter(topic: string, event: ChangeEvent): Promise<Writer> {
    const schemas = this.eventSchemas(event);
    const valueText = JSON.stringify(schemas.value);
    const id = `${topic}\u0000${valueText}`;
    let preparing = this.preparing.get(id);
    if (preparing === undefined) {
      preparing = this.register(topic, `${event.source.db}.${event.source.table}`, schemas, valueText);
      this.preparing.set(id, preparing);
      // A refused schema is tried again with the next batch, not remembered as refused.
      preparing.catch(() => this.preparing.delete(id));
    }
    const writer = await preparing;
    if (event.schema !== undefined) {
      let byTopic = this.tableWriters.get(event.schema);
      if (byTopic === undefined) this.tableWriters.set(event.schema, (byTopic = new Map()));
      byTopic.set(topic, writer);
    } else {
      nested(nested(this.collectionWriters, topic), event.source.db).set(event.source.table, writer);
    }
    return writer;
  }

  private async register(topic: string, table: string, schemas: EventSchemas, valueText: string): Promise<Writer> {
    const guard = (schema: RecordSchema) => ({
      table,
      check: (latest: string) => assertBackward(table, JSON.parse(latest) as RecordSchema, schema),
    });
    const [keyId, valueId] = await Promise.all([
      this.registry.idOf(this.subjectName(topic, fullName(schemas.key), true), JSON.stringify(schemas.key), guard(schemas.key)),
      this.registry.idOf(this.subjectName(topic, fullName(schemas.value), false), valueText, guard(schemas.value)),
    ]);
    return { keyId, valueId, key: new KeyCodec(schemas.key), value: new EnvelopeCodec(schemas.value) };
  }

  private frame<T>(schemaId: number, writer: AvroWriter<T>, value: T, event: ChangeEvent): Buffer {
    try {
      return this.wire.write(schemaId, writer, value);
    } catch (error) {
      // Off the hot path: say which field holds the value that does not fit.
      const paths = writer.invalidPaths(value);
      throw new CdcError(
        'INTERNAL',
        `cannot encode ${event.source.db}.${event.source.table} event at ${event.source.position}: ${paths.join(', ') || (error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Fetches, once per id, the writer schemas of the records that name an id not met before. */
  private async loadSchemas(records: readonly RawRecord[]): Promise<void> {
    const loading: Array<Promise<void>> = [];
    for (const record of records) {
      this.needSchema(record.key, loading);
      this.needSchema(record.value, loading);
    }
    if (loading.length > 0) await Promise.all(loading);
  }

  private needSchema(bytes: Buffer | null, loading: Array<Promise<void>>): void {
    if (bytes === null || frameError(bytes) !== undefined) return;
    const id = schemaIdOf(bytes);
    if (this.schemas.has(id)) return;
    let fetching = this.fetching.get(id);
    if (fetching === undefined) {
      fetching = this.fetchSchema(id).then((schema) => void this.schemas.set(id, schema));
      this.fetching.set(id, fetching);
      // Forgotten either way: an unreachable registry is not the records' fault, so this batch
      // fails and its retry asks again.
      const forget = () => void this.fetching.delete(id);
      fetching.then(forget, forget);
    }
    loading.push(fetching);
  }

  private async fetchSchema(id: number): Promise<RecordSchema | Unreadable> {
    const text = await this.registry.schemaText(id);
    if (text === undefined) return `unknown schema id ${id}`;
    const schema: unknown = JSON.parse(text);
    return isRecordSchema(schema) ? schema : `schema id ${id} is not an Avro record`;
  }

  private decodeRecord(record: RawRecord): ChangeEvent | DecodeError {
    return this.readRecord(record, record.value && this.valueReader(record.topic, record.value));
  }

  /** As decodeRecord, for the op, table and key only. */
  private identifyRecord(record: RawRecord): RowIdentity | DecodeError {
    return this.readRecord(record, record.value && this.identityReader(record.value));
  }

  /** A record's key, and its value read by `reader` (null for a record without a value). */
  private readRecord<R>(record: RawRecord, reader: EnvelopeReader<R> | Unreadable | null): R | DecodeError {
    if (reader === null) return new DecodeError(record, 'record has no value (a tombstone)');
    const keyReader = record.key === null ? undefined : this.keyReader(record.key);
    if (typeof keyReader === 'string') return new DecodeError(record, `key: ${keyReader}`);
    if (typeof reader === 'string') return new DecodeError(record, `value: ${reader}`);
    try {
      const envelope = readPayload(record.value!, reader.type, reader.resolver) as AvroEnvelope;
      // Only a truncate has no key: a row's record without one cannot be applied to any row.
      if (keyReader === undefined) {
        if (envelope.op !== 't') return new DecodeError(record, `record has no key (op ${JSON.stringify(envelope.op)})`);
        return reader.read(envelope, {});
      }
      return reader.read(envelope, keyReader.fromAvro(readPayload(record.key!, keyReader.type) as Record<string, unknown>));
    } catch (error) {
      return new DecodeError(record, (error as Error).message, { cause: error });
    }
  }

  private identityReader(bytes: Buffer): IdentityReader | Unreadable {
    return this.readerFor(bytes, this.identityReaders, newIdentityReader, '');
  }

  private keyReader(bytes: Buffer): KeyCodec | Unreadable {
    return this.readerFor(bytes, this.keyReaders, newKeyCodec, '');
  }

  private valueReader(topic: string, bytes: Buffer): ValueReader | Unreadable {
    return this.readerFor(bytes, nested(this.valueReaders, topic), this.newValueReader, topic);
  }

  /**
   * The reader `make` builds from the writer schema `bytes` name (once per schema id, kept in `cache`), or
   * why there is none: a bad header, an unknown id, a schema it cannot read.
   */
  private readerFor<R>(bytes: Buffer, cache: Map<number, R | Unreadable>, make: (schema: RecordSchema, topic: string) => R, topic: string): R | Unreadable {
    const bad = frameError(bytes);
    if (bad !== undefined) return bad;
    const id = schemaIdOf(bytes);
    let reader = cache.get(id);
    if (reader === undefined) {
      const schema = this.schemas.get(id) as RecordSchema | Unreadable;
      reader = typeof schema === 'string' ? schema : attempt(() => make(schema, topic));
      cache.set(id, reader);
    }
    return reader;
  }

  private readonly newValueReader = (writer: RecordSchema, topic: string): ValueReader => {
    const envelope = envelopeOf(writer);
    const readerSchema = this.readerSchemas.get(topic);
    if (readerSchema === undefined) return envelopeReader(new EnvelopeCodec(envelope), undefined);
    let codec = this.readerCodecs.get(topic);
    if (codec === undefined) this.readerCodecs.set(topic, (codec = new EnvelopeCodec(readerSchema)));
    return envelopeReader(codec, codec.type.createResolver(avroType(envelope)));
  };
}

function envelopeReader(codec: EnvelopeCodec, resolver: Resolver | undefined): ValueReader {
  return { type: codec.type, resolver, read: (envelope, key) => codec.fromAvro(envelope, key) };
}

const newKeyCodec = (schema: RecordSchema): KeyCodec => new KeyCodec(schema);
const newIdentityReader = (schema: RecordSchema): IdentityReader => new IdentityReader(envelopeOf(schema));

/** The schema, when it is a change-event Envelope of ours; throws otherwise. */
function envelopeOf(schema: RecordSchema): RecordSchema {
  if (typeof schema[CONNECTOR_ATTR] !== 'string') throw new Error(`${fullName(schema)} is not a change-event envelope`);
  return schema;
}

function nested<K, K2, V>(map: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = map.get(key);
  if (inner === undefined) map.set(key, (inner = new Map()));
  return inner;
}

/** The value, or the reason it could not be made (a schema we cannot read). */
function attempt<T>(make: () => T): T | Unreadable {
  try {
    return make();
  } catch (error) {
    return (error as Error).message;
  }
}
