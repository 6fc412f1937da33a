import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, Transport } from './transport.ts';
import { topics } from './topics.ts';
import { withRetry } from './retry.ts';

/**
 * Signals: requests to a running source, written to its partition of the control topic
 * `<pipeline>.sources` (partition i is source i's, source-ownership.ts). Whoever owns the source takes
 * them, so a request needs neither write access to the source database nor to know which process runs
 * the source; one written while no process runs it waits in the topic and is taken on start. The record is
 * JSON keyed by the source's name; a record of another shape is skipped with a warning.
 */
export interface SnapshotSignal {
  type: 'snapshot';
  /** Names the request in the notifications about it. */
  id: string;
  source: string;
  /** Tables as the source names them (`db.table`; MongoDB: the collection). */
  tables: string[];
  /** ms since epoch. */
  requestedAt: number;
}

/** A signal as the source's owner reads it: with its offset, the source's token records the newest taken. */
export interface ReceivedSignal {
  signal: SnapshotSignal;
  offset: string;
}

/**
 * Asks source `source` (index `sourceIndex` in the topology's sources) to snapshot `tables` incrementally.
 * Resolves with the request once the record is durable; the answer comes as notifications naming `id`
 * (a fresh one unless given: a caller that follows the notifications picks it first).
 */
export async function sendSnapshotSignal(
  transport: Transport,
  pipeline: string,
  sourceIndex: number,
  source: string,
  tables: readonly string[],
  id: string = randomUUID(),
): Promise<SnapshotSignal> {
  const signal: SnapshotSignal = { type: 'snapshot', id, source, tables: [...tables], requestedAt: Date.now() };
  const producer = await transport.producer();
  try {
    await withRetry(`send the snapshot request to source ${source}`, () =>
      producer.send([{ topic: topics.sourceControl(pipeline), partition: sourceIndex, key: Buffer.from(source), value: Buffer.from(JSON.stringify(signal)) }]),
    );
  } finally {
    await producer.close();
  }
  return signal;
}

/** The signal a control-topic record carries; an error naming what is wrong with it otherwise. */
export function parseSignal(record: ConsumedRecord): ReceivedSignal | Error {
  let parsed: Partial<SnapshotSignal>;
  try {
    parsed = JSON.parse(record.value?.toString() ?? 'null') as Partial<SnapshotSignal>;
  } catch {
    return new Error(`control record at offset ${record.offset} is not JSON`);
  }
  const valid =
    parsed !== null &&
    parsed.type === 'snapshot' &&
    typeof parsed.id === 'string' &&
    typeof parsed.source === 'string' &&
    Array.isArray(parsed.tables) &&
    parsed.tables.length > 0 &&
    parsed.tables.every((table) => typeof table === 'string') &&
    typeof parsed.requestedAt === 'number';
  if (!valid) return new Error(`control record at offset ${record.offset} is not a snapshot request ({ type: 'snapshot', id, source, tables, requestedAt })`);
  return { signal: parsed as SnapshotSignal, offset: record.offset };
}

/**
 * Between the consumer that receives a source's signals and the source runner that takes them: the runner
 * attaches once it can take signals (its token read); until then signals wait here. `deliver` resolves when
 * the runner has taken the signal durably (or refused it), so the control topic's offset is committed only
 * after that, and a signal is never lost to a crash.
 */
export class SignalInbox {
  private handler: ((received: ReceivedSignal) => Promise<void>) | undefined;
  private closedWith: Error | undefined;
  private readonly waiting: Array<{ received: ReceivedSignal; resolve: () => void; reject: (error: unknown) => void }> = [];

  deliver(received: ReceivedSignal): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.handler !== undefined) return this.handler(received);
    return new Promise((resolve, reject) => this.waiting.push({ received, resolve, reject }));
  }

  attach(handler: (received: ReceivedSignal) => Promise<void>): void {
    this.handler = handler;
    for (const { received, resolve, reject } of this.waiting.splice(0)) handler(received).then(resolve, reject);
  }

  /** The source stopped: signals not taken are left to the source's next owner. */
  close(reason: Error): void {
    this.handler = undefined;
    this.closedWith = reason;
    for (const { reject } of this.waiting.splice(0)) reject(reason);
  }
}
