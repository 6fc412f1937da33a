import type { ChangeEvent, RowIdentity } from './change-event.ts';

/** A record as read from a topic, before decoding. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** An event encoded for a topic: the record's key and value bytes. */
export interface EncodedRecord {
  /** Null for a `t` event, which has no row key (as Debezium writes truncates). */
  key: Buffer | null;
  value: Buffer;
}

/**
 * How change events become topic bytes and back. The Avro/Confluent implementation lives in serdes/;
 * tests may use a JSON one. Batches, so the hot path pays one await per batch, not per event.
 * `decode` never throws for one bad record: it returns the error (a DecodeError carrying
 * topic/partition/offset) in that record's place, and the topology sends it to the dead-letter topic.
 */
export interface EventSerde {
  encode(topic: string, events: readonly ChangeEvent[]): Promise<EncodedRecord[]>;
  decode(records: readonly RawRecord[]): Promise<Array<ChangeEvent | Error>>;
  /**
   * Reads only each record's RowIdentity (op, table, row key), as `decode` would give it, without building
   * the row images: what the repartition stage needs to forward a record's bytes unchanged. Errors in
   * place as `decode`; a record it accepts may still fail `decode` later (its rows are not read here).
   */
  identify(records: readonly RawRecord[]): Promise<Array<RowIdentity | Error>>;
}
