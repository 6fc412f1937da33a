import { randomUUID } from 'node:crypto';
import type { Transport } from './transport.ts';
import { followNotifications, type Notification, type NotificationRecord } from './notifications.ts';
import { sendSnapshotSignal, type SnapshotSignal } from './signals.ts';
import { topics } from './topics.ts';

/**
 * What `Topology.requestSnapshot` waits for: `accepted` until the source accepts the request (its token
 * holds it) or refuses it, `finished` until the source has snapshotted its tables, `none` only until the
 * request is durable on the control topic.
 */
export type SnapshotWait = 'accepted' | 'finished' | 'none';

/** Options of `Topology.requestSnapshot`. */
export interface SnapshotRequestOptions {
  /** Default `accepted`. */
  wait?: SnapshotWait;
  /** How long to wait for the answer, in ms. Default: 60 s with `wait: 'accepted'`, no limit with `'finished'`. */
  timeoutMs?: number;
  /** Each notification about the request as it is read (at least once: after a crash of the source, one may come twice). */
  onNotification?: (notification: NotificationRecord) => void;
}

/** A table of a request the source does not snapshot, and why. */
export interface RefusedTable {
  table: string;
  reason: string;
}

/**
 * How a snapshot request ended, as far as `Topology.requestSnapshot` waited:
 *
 * - `sent`: durable on the control topic (`wait: 'none'`); the process running the source takes it;
 * - `accepted`: the source snapshots `tables` while it streams; `refused` names the tables it will not;
 * - `finished`: the source snapshotted `tables` (those it did since it last started: after a restart of
 *   the source, the tables done before are not named);
 * - `refused`: nothing of the request is done, for `reason`;
 * - `timed-out`: no answer within the timeout; `message` says whether the source took the request at all.
 *   The request is not withdrawn: the source answers it later, or takes it when it starts.
 */
export type SnapshotRequestResult =
  | { status: 'sent'; request: SnapshotSignal }
  | { status: 'accepted' | 'finished'; request: SnapshotSignal; tables: string[]; refused: RefusedTable[] }
  | { status: 'refused'; request: SnapshotSignal; reason: string }
  | { status: 'timed-out'; request: SnapshotSignal; message: string };

const DEFAULT_ACCEPT_TIMEOUT_MS = 60_000;

/**
 * Sends a snapshot request to source `source` (index `sourceIndex`) and, unless `wait` is `none`, follows
 * the notifications topic for its answer. The follower starts before the request is sent, so no answer is
 * missed. Both topics must exist; the arguments are checked by Topology.requestSnapshot.
 */
export async function requestSnapshot(
  transport: Transport,
  pipeline: string,
  sourceIndex: number,
  source: string,
  tables: readonly string[],
  options: SnapshotRequestOptions = {},
): Promise<SnapshotRequestResult> {
  const wait = options.wait ?? 'accepted';
  const timeoutMs = options.timeoutMs ?? (wait === 'accepted' ? DEFAULT_ACCEPT_TIMEOUT_MS : Infinity);
  const id = randomUUID();
  if (wait === 'none') return { status: 'sent', request: await sendSnapshotSignal(transport, pipeline, sourceIndex, source, tables, id) };

  const seen: Notification[] = [];
  let request: SnapshotSignal | undefined;
  let settle!: { resolve: (result: SnapshotRequestResult) => void; reject: (error: unknown) => void };
  const answered = new Promise<SnapshotRequestResult>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited once the request is sent: a failure of the follower before that must not go unhandled.
  answered.catch(() => {});
  const follower = await followNotifications(transport, pipeline, id, (notification) => {
    if (notification.source !== source || !('id' in notification) || notification.id !== id) return;
    seen.push(notification);
    options.onNotification?.(notification);
    // The request is known once sent; an answer read before that is looked at then.
    const result = request && answerOf(request, wait, seen);
    if (result) settle.resolve(result);
  });
  follower.done.catch(settle.reject);
  let timer: NodeJS.Timeout | undefined;
  try {
    request = await sendSnapshotSignal(transport, pipeline, sourceIndex, source, tables, id);
    const early = answerOf(request, wait, seen);
    if (early) return early;
    const sent = request;
    if (timeoutMs !== Infinity) {
      timer = setTimeout(() => settle.resolve({ status: 'timed-out', request: sent, message: timeoutMessage(pipeline, sent, wait, timeoutMs, seen.length > 0) }), timeoutMs);
    }
    return await answered;
  } finally {
    clearTimeout(timer);
    await follower.stop();
  }
}

/**
 * The answer the notifications about a request give so far, if they give one for what is waited for:
 * `incremental-refused` refuses the whole request; the tables named in the acceptance's `refused` and in
 * `incremental-table-refused` records are the ones it does not snapshot.
 */
function answerOf(request: SnapshotSignal, wait: 'accepted' | 'finished', seen: readonly Notification[]): SnapshotRequestResult | undefined {
  const refused = new Map<string, string>();
  for (const notification of seen) {
    if (notification.type === 'incremental-refused') {
      return { status: 'refused', request, reason: notification.reason };
    } else if (notification.type === 'incremental-table-refused') {
      refused.set(notification.table, notification.reason);
    } else if (notification.type === 'incremental-accepted') {
      for (const { table, reason } of notification.refused) refused.set(table, reason);
      if (wait === 'accepted') return settled('accepted', request, notification.tables, refused);
    } else if (notification.type === 'incremental-finished') {
      return settled('finished', request, notification.tables, refused);
    }
  }
  return undefined;
}

function settled(status: 'accepted' | 'finished', request: SnapshotSignal, tables: readonly string[], refused: ReadonlyMap<string, string>): SnapshotRequestResult {
  return { status, request, tables: tables.filter((table) => !refused.has(table)), refused: [...refused].map(([table, reason]) => ({ table, reason })) };
}

function timeoutMessage(pipeline: string, request: SnapshotSignal, wait: 'accepted' | 'finished', timeoutMs: number, taken: boolean): string {
  const within = `within ${timeoutMs / 1000} s`;
  if (!taken) {
    return `no process running source ${request.source} answered ${within}; the request stays on ${topics.sourceControl(pipeline)} and is taken when the source starts`;
  }
  return `source ${request.source} took request ${request.id} but had not ${wait === 'accepted' ? 'answered' : 'finished'} it ${within}; it goes on, and its notifications come on ${topics.notifications(pipeline)}`;
}
