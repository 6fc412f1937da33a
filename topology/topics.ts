/**
 * Topic and consumer-group names, all derived from the pipeline id so that several processes started
 * with one id meet on the same topics and groups, and two pipelines never share one.
 *
 * Change topics are one per source (`<pipeline>.<source>.changes`), keyed by the serde's record key,
 * rather than one per table: tables appear while a source streams, and a fixed set of topics lets every
 * process subscribe on start without topic discovery. A user operator can route events to further,
 * declared topics (operators/route-to-topic.ts).
 */
export const topics = {
  change: (pipeline: string, source: string) => `${pipeline}.${source}.changes`,
  repartition: (pipeline: string) => `${pipeline}.repartition`,
  /** Compacted: the latest token per source is all that matters. */
  tokens: (pipeline: string) => `${pipeline}.tokens`,
  deadLetter: (pipeline: string) => `${pipeline}.dlq`,
  /**
   * One partition per source: whoever owns partition i runs source i (source-ownership.ts), and takes the
   * signals written to partition i (topology/signals.ts: incremental snapshot requests).
   */
  sourceControl: (pipeline: string) => `${pipeline}.sources`,
  /** What sources tell about their snapshots (topology/notifications.ts), one partition: totally ordered. */
  notifications: (pipeline: string) => `${pipeline}.notifications`,
  /** A spread snapshot's key ranges (topology/spread-snapshot.ts), handed out to the pipeline's processes by group `snapshotWorkers`. */
  snapshotWork: (pipeline: string) => `${pipeline}.snapshot-work`,
  /** One record per key range written to the change topic, read by the owner of the range's source. Compacted. */
  snapshotDone: (pipeline: string) => `${pipeline}.snapshot-done`,
};

export const groups = {
  repartition: (pipeline: string) => `${pipeline}.repartition`,
  sink: (pipeline: string, sink: string) => `${pipeline}.sink.${sink}`,
  sources: (pipeline: string) => `${pipeline}.sources`,
  /** One per reader of the notifications topic (notifications.ts followNotifications), never shared. */
  notificationFollower: (pipeline: string, follower: string) => `${pipeline}.notifications.${follower}`,
  /** Every process of the pipeline (that runs sources) is a member: Kafka hands each some partitions of the work topic. */
  snapshotWorkers: (pipeline: string) => `${pipeline}.snapshot-workers`,
  /** One per owner following the done records of its spread snapshot, never shared. */
  snapshotDoneFollower: (pipeline: string, follower: string) => `${pipeline}.snapshot-done.${follower}`,
};

/** The transactional id of a source's producer: one per pipeline + source, so a restarted source fences its zombie. */
export function sourceTransactionalId(pipeline: string, source: string): string {
  return `${pipeline}.${source}.tx`;
}
