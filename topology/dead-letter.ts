import type { ChangeEvent, RowIdentity } from './change-event.ts';
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
