import { CdcError, type CdcErrorOptions } from '../topology/errors.ts';

/**
 * One record could not be decoded (unknown magic byte or schema id, bytes that do not decode).
 * Returned in that record's place by `EventSerde.decode`, so the topology can send the record to the
 * dead-letter topic with its coordinates and keep going.
 */
export class DecodeError extends CdcError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly reason: string;

  constructor(at: { topic: string; partition: number; offset: string }, reason: string, options?: CdcErrorOptions) {
    super('DECODE_FAILED', `cannot decode ${at.topic}[${at.partition}]@${at.offset}: ${reason}`, options);
    this.topic = at.topic;
    this.partition = at.partition;
    this.offset = at.offset;
    this.reason = reason;
  }
}

/**
 * A table changed in a way its subject's readers cannot follow (BACKWARD compatibility). Not
 * retriable: the same event would fail again until an operator decides what to do.
 */
export class SchemaIncompatibleError extends CdcError {
  /** `db.table` (or `db.collection`). */
  readonly table: string;
  /** The column whose change breaks compatibility, when one is to blame. */
  readonly column: string | undefined;

  constructor(table: string, column: string | undefined, reason: string, options?: CdcErrorOptions) {
    super(
      'SCHEMA_INCOMPATIBLE',
      `schema change of ${table}${column === undefined ? '' : ` column ${column}`} is not backward compatible: ${reason}`,
      options,
    );
    this.table = table;
    this.column = column;
  }
}
