import type { IHeaders, KafkaMessage, Message, TopicMessages } from 'kafkajs';
import type { ConsumedRecord, OutgoingRecord } from '../../transport.ts';

/** One kafkajs sendBatch argument for records of any topics, each topic's records in their given order. */
export function topicMessages(records: readonly OutgoingRecord[]): TopicMessages[] {
  // Usually each topic's records are one run (a batch's events, then its token): each run is one slice.
  const runs: TopicMessages[] = [];
  for (let start = 0, end = 1; start < records.length; start = end++) {
    const { topic } = records[start]!;
    while (end < records.length && records[end]!.topic === topic) end++;
    if (runs.some((run) => run.topic === topic)) return groupedByTopic(records);
    runs.push({ topic, messages: records.slice(start, end) });
  }
  return runs;
}

/** topicMessages for records whose topics interleave. */
function groupedByTopic(records: readonly OutgoingRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (!messages) byTopic.set(record.topic, (messages = []));
    // The record is the message: KafkaJS reads its partition, key, value and headers, and copies none of it.
    messages.push(record);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export function consumedRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: stringHeaders(message.headers),
    timestamp: Number(message.timestamp),
  };
}

/** The headers of a record that has none (most records): one object, read only, for all of them. */
const NO_HEADERS: Record<string, string> = Object.freeze({});

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  let strings: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    // A header repeated under one name arrives as an array; the topology never repeats one, the last wins.
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) (strings ??= {})[name] = last.toString();
  }
  return strings ?? NO_HEADERS;
}

/** The offset after `offset` (kafkajs offsets are int64 strings). */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
