/**
 * For MongoDB source tests of whole pipelines on the stack's Kafka: a plain KafkaJS consumer (independent
 * of the transport under test) that follows topics as records arrive, the decoding of what it read, and
 * the comparison of a MongoDB sink's copy, or of what a plain consumer of the change topic holds
 * (test/faults/support.ts), with its source collection.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { BSON, type Db } from 'mongodb';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { EventSerde } from '../../../topology/serde.ts';
import type { SourceToken } from '../../../topology/token.ts';
import { TokenFold } from '../../../topology/token-store.ts';
import { plainEvent } from '../../serdes/plain.ts';
import { brokers, withAdmin } from '../../topology/fixtures/kafka-kit.ts';
import { canonical, collectionState } from './source-harness.ts';

/** A record as a plain KafkaJS consumer sees it; `timestamp` is the broker's append time on LogAppendTime topics, else the producer's create time. */
export interface PlainRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Reads topics from their start (read_committed) for as long as it runs, with a group of its own. */
export class TopicTail {
  private readonly byTopic = new Map<string, PlainRecord[]>();
  /** Per `topic/partition`, the offset after the last batch handled, transaction markers included. */
  private readonly positions = new Map<string, bigint>();
  private readonly decoded = new Map<string, ChangeEvent[]>();
  private readonly waiters = new Set<() => void>();
  private failure: unknown;

  private constructor(private readonly consumer: Consumer) {}

  /** The topics must exist (the tail never creates one). */
  static async start(topics: string[]): Promise<TopicTail> {
    const kafka = new Kafka({ brokers, clientId: 'it-tail', logLevel: logLevel.ERROR });
    const tail = new TopicTail(kafka.consumer({ groupId: `it-tail-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 }));
    for (const topic of topics) tail.byTopic.set(topic, []);
    await tail.consumer.connect();
    await tail.consumer.subscribe({ topics, fromBeginning: true });
    tail.consumer.on(tail.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      tail.positions.set(`${payload.topic}/${payload.partition}`, BigInt(payload.lastOffset) + 1n);
      tail.wake();
    });
    tail.consumer.on(tail.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        tail.failure = payload.error;
        tail.wake();
      }
    });
    await tail.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        tail.byTopic.get(topic)!.push({ topic, partition, offset: Number(message.offset), timestamp: Number(message.timestamp), key: message.key, value: message.value });
        tail.wake();
      },
    });
    return tail;
  }

  /** The records of `topic` read so far, in each partition's order. */
  of(topic: string): PlainRecord[] {
    return this.byTopic.get(topic)!;
  }

  /** The change events of `topic` read so far, decoded with `serde` (each record once). */
  async events(topic: string, serde: EventSerde): Promise<ChangeEvent[]> {
    const events = this.decoded.get(topic) ?? [];
    this.decoded.set(topic, events);
    const records = this.of(topic);
    if (records.length > events.length) for (const event of await decodeAll(serde, records.slice(events.length))) events.push(event);
    return events;
  }

  /**
   * Resolves with the first value `check` returns other than undefined, checked now and after records
   * arrive; the deadline only turns a hang into a failure naming what never happened.
   */
  async until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, deadlineMs = 120_000): Promise<T> {
    const giveUp = Date.now() + deadlineMs;
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const value = await check();
      if (value !== undefined) return value;
      const left = giveUp - Date.now();
      if (left <= 0) throw new Error(`never happened: ${what}`);
      // Checked again after the next record, or after a second (for checks on more than the records).
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 1000));
        this.waiters.add(wake);
      });
    }
  }

  /**
   * Resolves once every record the topics hold now is read: call it when nothing writes them any more. The
   * end of a partition may be a transaction marker, which read_committed never hands over but counts.
   */
  async caughtUp(): Promise<void> {
    const ends = await withAdmin(async (admin) => {
      const topics = [...this.byTopic.keys()];
      const offsets = await Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })));
      return offsets.flatMap(({ topic, partitions }) => partitions.filter(({ high, low }) => BigInt(high) > BigInt(low)).map(({ partition, high }) => [`${topic}/${partition}`, BigInt(high)] as const));
    });
    await this.until('the tail read every record', () => (ends.every(([partition, end]) => (this.positions.get(partition) ?? 0n) >= end) ? true : undefined));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}

/** The tokens of a token topic's records, in order, each with the table maps written before it and its own record. */
export function tokensOf(records: PlainRecord[]): Array<SourceToken & { record: PlainRecord }> {
  const fold = new TokenFold();
  return records.flatMap((record) => {
    const token = fold.add(record.key, record.value);
    return token === undefined ? [] : [{ ...token, record }];
  });
}

/** Decodes change-topic records with `serde`; a record that does not decode fails the test. */
export async function decodeAll(serde: EventSerde, records: PlainRecord[]): Promise<ChangeEvent[]> {
  const decoded = await serde.decode(records.map(({ topic, partition, offset, key, value }) => ({ topic, partition, offset: String(offset), key, value })));
  return decoded.map(plainEvent);
}

/** The MongoDB sink's copy of a collection as collectionState gives it, without the position field the sink adds. */
export async function copyState(db: Db, collection: string): Promise<Map<string, string>> {
  const state = await collectionState(db, collection);
  for (const [id, document] of state) {
    const { __cdc_pos: _position, ...rest } = BSON.EJSON.parse(document, { relaxed: false }) as BSON.Document;
    state.set(id, canonical(rest));
  }
  return state;
}

/**
 * Resolves once the sink's copy holds exactly the source collection's documents (compared in full once the
 * counts agree); the deadline only turns a hang into a failure that shows the difference.
 */
export async function untilCopyEquals(source: Db, copy: Db, collection: string, deadlineMs = 150_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  for (;;) {
    const [expected, copied] = await Promise.all([source.collection(collection).countDocuments(), copy.collection(collection).countDocuments()]);
    if (expected === copied) {
      const [want, have] = await Promise.all([collectionState(source, collection), copyState(copy, collection)]);
      const differing = [...want].filter(([id, document]) => have.get(id) !== document).map(([id]) => id);
      if (differing.length === 0 && want.size === have.size) return;
      if (Date.now() > giveUp) throw new Error(`the copy of ${collection} never equalled the source: ${differing.length} documents differ, e.g. ${differing.slice(0, 3).join(', ')}`);
    } else if (Date.now() > giveUp) {
      throw new Error(`the copy of ${collection} never equalled the source: ${copied} documents, the source has ${expected}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A collection's documents as a plain consumer of the change topic holds them (lastEventPerKey in
 * test/faults/support.ts): by the Debezium key `{"id": <_id as canonical Extended JSON>}`, each document
 * as its canonical Extended JSON string, the MongoDB `after` image.
 */
export async function consumedState(db: Db, collection: string): Promise<Map<string, string>> {
  const state = await collectionState(db, collection);
  return new Map([...state].map(([id, document]) => [JSON.stringify({ id }), JSON.stringify(document)]));
}

/** A numeric `_id` from its canonical Extended JSON (an event's `key._id`). */
export function idOf(canonicalId: string): number {
  return Number(BSON.EJSON.parse(canonicalId, { relaxed: true }));
}
