import type { ChangeEvent, Row, RowIdentity } from './change-event.ts';
import type { Logger } from './log.ts';
import type { RefusedEvent } from './operator-stage.ts';
import type { EventSerde } from './serde.ts';
import type { ConsumedRecord, OutgoingRecord } from './transport.ts';
import { topics } from './topics.ts';

/** The headers of a dead letter. */
export const DEAD_LETTER_HEADERS = {
  /** The stage that refused it: `source:operator X`, `repartition[:operator X]`, `sink.<name>[:operator X]`. */
  stage: 'cdc.dlq.stage',
  reason: 'cdc.dlq.reason',
  /** Where the refused record was read from (absent for an event a source-stage operator refused: it had no record yet). */
  topic: 'cdc.dlq.topic',
  partition: 'cdc.dlq.partition',
  offset: 'cdc.dlq.offset',
  /** The source of an event a source-stage operator refused. */
  source: 'cdc.dlq.source',
  /** `partition:offset` of the dead letter a replay took this one from, when it failed again. */
  replayOf: 'cdc.dlq.replay-of',
} as const;

/**
 * A record for the dead-letter topic `<pipeline>.dlq`: the original key and bytes, unchanged, with
 * where it came from and why it was refused in headers, so it can be inspected and re-sent.
 */
export function deadLetter(pipeline: string, stage: string, record: ConsumedRecord, reason: string): OutgoingRecord {
  return {
    topic: topics.deadLetter(pipeline),
    partition: 0,
    key: record.key,
    value: record.value,
    headers: {
      [DEAD_LETTER_HEADERS.stage]: stage,
      [DEAD_LETTER_HEADERS.reason]: reason,
      [DEAD_LETTER_HEADERS.topic]: record.topic,
      [DEAD_LETTER_HEADERS.partition]: String(record.partition),
      [DEAD_LETTER_HEADERS.offset]: record.offset,
    },
  };
}

/** A record of the dead-letter topic, read back: where it is, when and why it was refused, where from. */
export interface DeadLetter {
  /** `partition:offset` in the dead-letter topic: how `cdc dlq` names it. */
  id: string;
  /** When it was dead-lettered, ms since epoch. */
  timestamp: number;
  stage: string;
  reason: string;
  /** Where the refused record was read from; absent for an event a source-stage operator refused. */
  origin?: { topic: string; partition: number; offset: string };
  /** The dead letter an earlier replay took this one from (it failed again). */
  replayOf?: string;
  /** The record itself: its key and value are the refused record's bytes. */
  record: ConsumedRecord;
}

export function readDeadLetter(record: ConsumedRecord): DeadLetter {
  const header = (name: string): string | undefined => record.headers[name];
  const topic = header(DEAD_LETTER_HEADERS.topic);
  const replayOf = header(DEAD_LETTER_HEADERS.replayOf);
  return {
    id: `${record.partition}:${record.offset}`,
    timestamp: record.timestamp,
    stage: header(DEAD_LETTER_HEADERS.stage) ?? '',
    reason: header(DEAD_LETTER_HEADERS.reason) ?? '',
    ...(topic === undefined
      ? {}
      : { origin: { topic, partition: Number(header(DEAD_LETTER_HEADERS.partition)), offset: header(DEAD_LETTER_HEADERS.offset) ?? '' } }),
    ...(replayOf === undefined ? {} : { replayOf }),
    record,
  };
}

/** A dead letter that failed again when replayed: the same bytes and origin, the new stage and reason, and which letter it replays. */
export function deadLetterAgain(pipeline: string, letter: DeadLetter, stage: string, reason: string): OutgoingRecord {
  const { record } = letter;
  return {
    topic: topics.deadLetter(pipeline),
    partition: 0,
    key: record.key,
    value: record.value,
    headers: { ...record.headers, [DEAD_LETTER_HEADERS.stage]: stage, [DEAD_LETTER_HEADERS.reason]: reason, [DEAD_LETTER_HEADERS.replayOf]: letter.id },
  };
}

/** A record an operator refused in a stage that read it from a topic: the record itself is dead-lettered. */
export function refusedRecord(pipeline: string, stage: string, record: ConsumedRecord, refused: RefusedEvent): OutgoingRecord {
  return deadLetter(pipeline, `${stage}:operator ${refused.operator}`, record, refused.reason);
}

/** Why the source stage dead-letters an event, by the event it routes to the dead-letter topic. */
const refusals = new WeakMap<ChangeEvent, Record<string, string>>();

/**
 * An event an operator refused in the source stage, which has no record yet: the event itself, routed to
 * the dead-letter topic, written with the batch it came in (so the token after it covers it).
 */
export function refusedSourceEvent(pipeline: string, refused: RefusedEvent): ChangeEvent {
  const event: ChangeEvent = { ...refused.event, topic: topics.deadLetter(pipeline) };
  refusals.set(event, {
    [DEAD_LETTER_HEADERS.stage]: `source:operator ${refused.operator}`,
    [DEAD_LETTER_HEADERS.reason]: refused.reason,
    [DEAD_LETTER_HEADERS.source]: refused.event.source.name,
  });
  return event;
}

/** The dead-letter headers of an event made by refusedSourceEvent; undefined for any other event. */
export function refusalHeaders(event: ChangeEvent): Record<string, string> | undefined {
  return refusals.get(event);
}

export interface DecodedBatch<T = ChangeEvent> {
  events: T[];
  /** origins[i] is the record events[i] came from. */
  origins: ConsumedRecord[];
  deadLetters: OutgoingRecord[];
}

/** Decodes a batch; what the serde cannot decode becomes dead letters (EventSerde.decode returns Errors in place). */
export async function decodeOrDeadLetter(serde: EventSerde, pipeline: string, stage: string, records: readonly ConsumedRecord[]): Promise<DecodedBatch> {
  return splitDeadLetters(await serde.decode(records), pipeline, stage, records);
}

/** The same for EventSerde.identify: the identities of the records it can read, dead letters for the rest. */
export async function identifyOrDeadLetter(
  serde: EventSerde,
  pipeline: string,
  stage: string,
  records: readonly ConsumedRecord[],
): Promise<DecodedBatch<RowIdentity>> {
  return splitDeadLetters(await serde.identify(records), pipeline, stage, records);
}

function splitDeadLetters<T>(results: ReadonlyArray<T | Error>, pipeline: string, stage: string, records: readonly ConsumedRecord[]): DecodedBatch<T> {
  const batch: DecodedBatch<T> = { events: [], origins: [], deadLetters: [] };
  results.forEach((result, i) => {
    const record = records[i]!;
    if (result instanceof Error) {
      batch.deadLetters.push(deadLetter(pipeline, stage, record, result.message));
    } else {
      batch.events.push(result);
      batch.origins.push(record);
    }
  });
  return batch;
}

/** A record for the dead-letter topic, with the row it carried when the stage could read that much. */
export interface DeadLetterEntry {
  record: OutgoingRecord;
  row?: RowIdentity;
}

/** Dead letters logged one line each per batch; the rest of a batch is one summary line (all are in the topic). */
export const DEAD_LETTERS_LOGGED_PER_BATCH = 20;
const KEY_CHARACTERS = 200;

/**
 * A warn line per dead-lettered record: its table, key, reason and origin (the reason is the stage's or
 * the target's message, never a connection string). A batch that dead-letters many logs its first
 * DEAD_LETTERS_LOGGED_PER_BATCH and one line counting the rest, with their distinct reasons.
 */
export function logDeadLetters(log: Logger, entries: readonly DeadLetterEntry[]): void {
  for (const { record, row } of entries.slice(0, DEAD_LETTERS_LOGGED_PER_BATCH)) {
    const headers = record.headers ?? {};
    log.warn(
      {
        stage: headers['cdc.dlq.stage'],
        ...(row ? { table: `${row.source.db}.${row.source.table}`, key: keyText(row.key) } : {}),
        reason: headers['cdc.dlq.reason'],
        from: `${headers['cdc.dlq.topic']}/${headers['cdc.dlq.partition']}@${headers['cdc.dlq.offset']}`,
      },
      'record dead-lettered',
    );
  }
  const rest = entries.slice(DEAD_LETTERS_LOGGED_PER_BATCH);
  if (rest.length === 0) return;
  const reasons = [...new Set(rest.map(({ record }) => record.headers?.['cdc.dlq.reason']))].slice(0, 5);
  log.warn({ stage: rest[0]!.record.headers?.['cdc.dlq.stage'], count: rest.length, reasons }, 'more records of the batch dead-lettered');
}

/** A key as short JSON text: 64-bit integers as numbers' digits, bytes as hex. */
function keyText(key: Row): string {
  const text = JSON.stringify(key, (_name, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer') return `0x${Buffer.from((value as { data: number[] }).data).toString('hex')}`;
    return value;
  });
  return text.length > KEY_CHARACTERS ? `${text.slice(0, KEY_CHARACTERS)}…` : text;
}
