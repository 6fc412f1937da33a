import type { ChangeEvent, RowIdentity } from './change-event.ts';
import type { EncodedRecord, EventSerde, RawRecord } from './serde.ts';
import { CdcError } from './errors.ts';

/**
 * A JSON EventSerde for tests, benchmarks and debugging (the product's serde is Avro, in serdes/).
 * bigint and Buffer survive the round trip as {"$big": "..."} and {"$bin": "<base64>"}; the schema is
 * not carried. The record key is the JSON of the key row.
 */
export class JsonSerde implements EventSerde {
  async encode(_topic: string, events: readonly ChangeEvent[]): Promise<EncodedRecord[]> {
    return events.map((event) => ({
      key: Buffer.from(JSON.stringify(event.key, eventJsonReplacer)),
      value: Buffer.from(JSON.stringify({ ...event, schema: undefined }, eventJsonReplacer)),
    }));
  }

  async decode(records: readonly RawRecord[]): Promise<Array<ChangeEvent | Error>> {
    return records.map((record) => {
      try {
        if (record.value === null) throw new Error('record has no value (tombstone)');
        return JSON.parse(record.value.toString('utf8'), revive) as ChangeEvent;
      } catch (error) {
        return new CdcError('DECODE_FAILED', `cannot decode ${record.topic}/${record.partition}@${record.offset}: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  /** JSON holds no schema to read part of a record by: the whole event, which is a RowIdentity. */
  identify(records: readonly RawRecord[]): Promise<Array<RowIdentity | Error>> {
    return this.decode(records);
  }
}

/** JSON.stringify's replacer for change events: bigint as {"$big": "..."}, Buffer as {"$bin": "<base64>"}. */
export function eventJsonReplacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $big: value.toString() };
  // Buffer.toJSON runs before the replacer sees the value; read the original from the holder.
  const original = (this as Record<string, unknown>)[key];
  if (Buffer.isBuffer(original)) return { $bin: original.toString('base64') };
  return value;
}

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const tagged = value as Record<string, unknown>;
    if (typeof tagged.$big === 'string') return BigInt(tagged.$big);
    if (typeof tagged.$bin === 'string') return Buffer.from(tagged.$bin, 'base64');
  }
  return value;
}

