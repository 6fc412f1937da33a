import type { ChangeEvent, RowIdentity } from './change-event.ts';
import type { RefusedEvent } from './operator-stage.ts';
import type { EventSerde } from './serde.ts';
import type { ConsumedRecord, OutgoingRecord } from './transport.ts';
import { topics } from './topics.ts';

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
      'cdc.dlq.stage': stage,
      'cdc.dlq.reason': reason,
      'cdc.dlq.topic': record.topic,
      'cdc.dlq.partition': String(record.partition),
      'cdc.dlq.offset': record.offset,
    },
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
  refusals.set(event, { 'cdc.dlq.stage': `source:operator ${refused.operator}`, 'cdc.dlq.reason': refused.reason, 'cdc.dlq.source': refused.event.source.name });
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
