/**
 * The one place that decides which KafkaJS log entries are part of a healthy run: Kafka errors a healthy
 * cluster returns now and then and KafkaJS retries by itself, and KafkaJS's notice about a setting chosen
 * on purpose. KafkaJS logs them as warnings or errors, which an operator reads as trouble; they are
 * logged at debug instead and the retries counted (cdc_kafka_retried_total). Every other entry keeps its
 * level, and what KafkaJS finally gives up on reaches the topology as an error.
 */

/** KafkaJS's name of a Kafka error → its message (kafkajs/src/protocol/error.js), for the errors retried as a matter of course. */
export const RETRIED_KAFKA_ERRORS = {
  // Right after a commit: the next transaction's AddPartitionsToTxn while the broker still writes the markers.
  CONCURRENT_TRANSACTIONS: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
  // At start, and when a coordinator moves: it is still loading its partition of the group or transaction log.
  GROUP_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests for this group",
  GROUP_COORDINATOR_NOT_AVAILABLE: 'The group coordinator is not available',
  NOT_COORDINATOR_FOR_GROUP: 'This is not the correct coordinator for this group',
  // A process joins or leaves a consumer group: every member joins again.
  REBALANCE_IN_PROGRESS: 'The group is rebalancing, so a rejoin is needed',
} as const;

/** producer.ts limits KafkaJS's retries of a send on purpose, so the topology's retry takes over. */
const IDEMPOTENT_RETRIES_LIMITED = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

const RETRIED_SEND = 'Failed to send messages: ';

const reasonOf = new Map<string, string>(Object.entries(RETRIED_KAFKA_ERRORS).map(([type, message]) => [message, type]));

export interface KafkaLogEntry {
  namespace: string;
  message: string;
  fields: Record<string, unknown>;
}

export interface ExpectedKafkaLog {
  /** The Kafka error's type, or what the notice is about. */
  reason: string;
  /**
   * The entry is a failed response that KafkaJS retries: counted once per failure, on the connection's
   * entry, not again on the entries of whoever retries it (a producer's send, a consumer's rejoin).
   */
  retried: boolean;
}

/** Whether a KafkaJS log entry belongs to a healthy run, and why; undefined for anything else. */
export function expectedKafkaLog({ namespace, message, fields }: KafkaLogEntry): ExpectedKafkaLog | undefined {
  if (namespace === 'Producer' && message === IDEMPOTENT_RETRIES_LIMITED) return { reason: 'idempotent-retries-limited', retried: false };
  const reason = reasonOf.get(errorOf(message, fields) ?? '');
  return reason === undefined ? undefined : { reason, retried: namespace === 'Connection' };
}

/** The Kafka error an entry reports: a connection's `error` field, or the message of a send about to be retried. */
function errorOf(message: string, fields: Record<string, unknown>): string | undefined {
  if (typeof fields.error === 'string') return fields.error;
  if ('retryCount' in fields && message.startsWith(RETRIED_SEND)) return message.slice(RETRIED_SEND.length);
  return undefined;
}
