import type { ChangeEvent } from './change-event.ts';
import type { EventSerde } from './serde.ts';
import type { SourceToken } from './token.ts';
import type { OutgoingRecord, Producer } from './transport.ts';
import type { TopicTokenStore } from './token-store.ts';
import { partitionForKey } from './murmur2.ts';
import { placeRecords } from './record-placement.ts';
import { TokenCommitError } from './errors.ts';
import { withRetry } from './retry.ts';
import { refusalHeaders } from './dead-letter.ts';

/** Where the source stage puts a batch of change events and the token that covers them. */
export interface BatchWriter {
  /**
   * Resolves once the events are durable and then the token (if any) is: in one Kafka transaction when
   * exactly-once, else the token strictly after the events' acks. A failure of the token rejects with
   * TokenCommitError.
   */
  write(events: readonly ChangeEvent[], token?: SourceToken): Promise<void>;
}

export interface ChangeWriterOptions {
  producer: Producer;
  serde: EventSerde;
  tokens: TopicTokenStore;
  /** The source's change topic, for every event no operator routed elsewhere. */
  changeTopic: string;
  /** Partitions of a topic the topology declared; throws for any other topic. */
  partitionsOf: (topic: string) => number;
  /** Where events an operator refused go (topology/dead-letter.ts refusedSourceEvent). */
  deadLetterTopic: string;
  /** The producer is transactional: events and token go in one transaction. */
  exactlyOnce: boolean;
}

/** Writes change events to their topics, keyed by the serde's key and partitioned as the Java client would. */
export class ChangeWriter implements BatchWriter {
  constructor(private readonly options: ChangeWriterOptions) {}

  async write(events: readonly ChangeEvent[], token?: SourceToken): Promise<void> {
    const { producer, tokens, exactlyOnce } = this.options;
    // Only the encoded records are used past this point: the events are not kept alive through the send
    // (rows held across a round trip die in V8's old generation, which costs a full collection).
    const count = events.length;
    const records = await this.encode(events);
    if (token !== undefined && exactlyOnce) {
      records.push(...tokens.records(token));
      try {
        await withRetry(`write ${count} events and the token of source ${token.source}`, () => producer.send(records));
      } catch (error) {
        throw new TokenCommitError(`cannot write ${count} events and the token of source ${token.source} in one transaction: ${(error as Error).message}`, { cause: error });
      }
      return;
    }
    if (records.length > 0) await withRetry(`write ${records.length} change events`, () => producer.send(records));
    if (token !== undefined) await tokens.commit(token);
  }

  private async encode(events: readonly ChangeEvent[]): Promise<OutgoingRecord[]> {
    const { changeTopic } = this.options;
    // Almost always every event goes to the change topic: group only when an operator routed some elsewhere.
    if (events.every((event) => event.topic === undefined)) return this.encodeFor(changeTopic, events);
    const byTopic = new Map<string, ChangeEvent[]>();
    for (const event of events) {
      const topic = event.topic ?? changeTopic;
      const group = byTopic.get(topic);
      if (group) group.push(event);
      else byTopic.set(topic, [event]);
    }
    const encoded = await Promise.all([...byTopic].map(([topic, group]) => this.encodeFor(topic, group)));
    return encoded.flat();
  }

  private async encodeFor(topic: string, events: readonly ChangeEvent[]): Promise<OutgoingRecord[]> {
    if (events.length === 0) return [];
    const partitions = this.options.partitionsOf(topic);
    const encoded = await this.options.serde.encode(topic, events);
    const records = placeRecords(topic, partitions, events, encoded, (i) => partitionForKey(encoded[i]!.key!, partitions));
    // Events an operator refused carry why in headers (the dead-letter topic has one partition: one record each).
    if (topic === this.options.deadLetterTopic) {
      records.forEach((record, i) => {
        const headers = refusalHeaders(events[i]!);
        if (headers) record.headers = headers;
      });
    }
    return records;
  }
}
