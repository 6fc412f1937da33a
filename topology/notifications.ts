import type { Producer, Transport } from './transport.ts';
import { groups, topics } from './topics.ts';
import { withRetry } from './retry.ts';
import type { Logger } from './log.ts';

/**
 * What a source tells about its snapshots, in this order for one source (docs/notifications.md):
 *
 * - initial snapshot: `snapshot-started`, then one `table-snapshotted` per table as its last chunk is
 *   durable, then `snapshot-finished` once the token that ends the snapshot is;
 * - incremental snapshot: `incremental-requested` when the owner of the source reads the request, then
 *   either `incremental-refused` (nothing of it is done) or `incremental-accepted` once the token that holds
 *   it is durable (a table of it the source does not capture is named in `refused`), then per table
 *   `incremental-table-snapshotted` once its last chunk is durable (or `incremental-table-refused` when it
 *   cannot be read when its turn comes), then `incremental-finished`.
 *
 * Each is written once its cause is durable, so a crash may repeat one (at least once), never announce
 * what a restart would undo.
 */
export type Notification =
  | { type: 'snapshot-started'; tables: string[] }
  | { type: 'table-snapshotted'; table: string; rows: number; durationMs: number }
  | { type: 'snapshot-finished'; tables: number; rows: number; durationMs: number }
  | { type: 'incremental-requested'; id: string; tables: string[] }
  | { type: 'incremental-refused'; id: string; tables: string[]; reason: string }
  | { type: 'incremental-accepted'; id: string; tables: string[]; refused: Array<{ table: string; reason: string }> }
  | { type: 'incremental-table-refused'; id: string; table: string; reason: string }
  | { type: 'incremental-table-snapshotted'; id: string; table: string; rows: number; chunks: number; durationMs: number }
  | { type: 'incremental-finished'; id: string; tables: string[] };

/** A notification as written: JSON, keyed by the source, with the pipeline, source and time (ms since epoch). */
export type NotificationRecord = Notification & { pipeline: string; source: string; at: number };

/** Where a source's notifications go; `notify` never throws (a lost notification must not stop a source). */
export interface Notifier {
  notify(source: string, notification: Notification): void;
}

/**
 * Notifications on the topic `<pipeline>.notifications` (one partition, so they are totally ordered), and
 * as info log lines. Written one at a time in the order given; a failed write is logged and dropped.
 */
export class TopicNotifier implements Notifier {
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly pipeline: string,
    private readonly producer: Producer,
    private readonly log: Logger,
  ) {}

  static async open(transport: Transport, pipeline: string, log: Logger): Promise<TopicNotifier> {
    await transport.createTopics([notificationTopicSpec(pipeline)]);
    return new TopicNotifier(pipeline, await transport.producer(), log);
  }

  notify(source: string, notification: Notification): void {
    const record: NotificationRecord = { ...notification, pipeline: this.pipeline, source, at: Date.now() };
    this.log.info({ source, ...notification }, `notification: ${notification.type}`);
    this.queue = this.queue.then(() =>
      withRetry(`write notification ${notification.type}`, () =>
        this.producer.send([{ topic: topics.notifications(this.pipeline), partition: 0, key: Buffer.from(source), value: Buffer.from(JSON.stringify(record)) }]),
      ).catch((error: unknown) => this.log.warn({ source, type: notification.type, err: error }, 'notification not written')),
    );
  }

  /** Writes what is queued, then closes the producer. */
  async close(): Promise<void> {
    await this.queue;
    await this.producer.close();
  }
}

export function notificationTopicSpec(pipeline: string) {
  return { name: topics.notifications(pipeline), partitions: 1 };
}

/** Reads a notification record back; undefined for a record that is not one. */
export function parseNotification(value: Buffer | null): NotificationRecord | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value.toString()) as Partial<NotificationRecord>;
    return typeof parsed.type === 'string' && typeof parsed.source === 'string' ? (parsed as NotificationRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** A reader of the notifications topic, as `followNotifications` starts it. */
export interface NotificationFollower {
  /** Rejects with the error that stopped the reader (it then reads no more). */
  readonly done: Promise<void>;
  /** Stops reading and leaves its consumer group. */
  stop(): Promise<void>;
}

/**
 * Reads the notifications written to `<pipeline>.notifications` after this resolves, in order, each to
 * `onNotification` (a record that is not one is skipped). Its consumer group
 * `<pipeline>.notifications.<follower>` (`follower` unique: one group per reader) starts at the topic's
 * end offsets as taken before it joins, so a notification written the moment this resolves (the answer to
 * a request sent then) is read however long joining the group takes. The topic must exist
 * (notificationTopicSpec). The group stays empty after stop(); Kafka drops it after its offsets retention.
 */
export async function followNotifications(
  transport: Transport,
  pipeline: string,
  follower: string,
  onNotification: (notification: NotificationRecord) => void,
): Promise<NotificationFollower> {
  const topic = topics.notifications(pipeline);
  const groupId = groups.notificationFollower(pipeline, follower);
  await transport.setGroupOffsets(groupId, topic, await transport.latestOffsets(topic));
  const consumer = await transport.consumer({
    groupId,
    topics: [topic],
    fromBeginning: false,
    eachBatch: async ({ records }) => {
      for (const record of records) {
        const notification = parseNotification(record.value);
        if (notification !== undefined) onNotification(notification);
      }
    },
  });
  return { done: consumer.done, stop: () => consumer.stop() };
}
