import type { Consumer, Transport } from './transport.ts';
import { groups, topics } from './topics.ts';
import { parseSignal, type SignalInbox } from './signals.ts';
import type { Logger } from './log.ts';

export interface OwnedSource {
  /** Stops reading, writes what the latest token covers, releases the source. */
  stop(): Promise<void>;
  /** Where the source's signals go (topology/signals.ts). */
  signals: SignalInbox;
}

/**
 * Runs each source in exactly one process, using Kafka's group protocol rather than a coordinator of
 * our own: the control topic `<pipeline>.sources` has one partition per source, consumed in group
 * `<pipeline>.sources`; whoever is assigned partition i runs source i, and gives it up when a rebalance
 * revokes it (another process joined or left). When a process dies, its session times out, the group
 * rebalances, and a survivor is assigned its partitions and starts the sources from their tokens.
 * (During an overlap a revoked process may still be finishing a write: with exactly-once its producer
 * is fenced by the new owner's transactional id; without, the new owner re-writes from an older token.)
 */
export class SourceOwnership {
  private readonly running = new Map<number, OwnedSource>();
  private consumer?: Consumer;

  static async join(transport: Transport, pipeline: string, start: (index: number) => OwnedSource, log: Logger): Promise<SourceOwnership> {
    const ownership = new SourceOwnership();
    ownership.consumer = await transport.consumer({
      groupId: groups.sources(pipeline),
      topics: [topics.sourceControl(pipeline)],
      // A signal written before the pipeline first ran waits for it.
      fromBeginning: true,
      // Signals for source i: the offset is committed once its runner has taken them durably.
      eachBatch: async ({ partition, records, signal }) => {
        for (const record of records) {
          const received = parseSignal(record);
          if (received instanceof Error) {
            log.warn({ topic: topics.sourceControl(pipeline), partition, offset: record.offset }, `${received.message}: skipped`);
            continue;
          }
          const owned = ownership.running.get(partition);
          if (owned === undefined || signal.aborted) throw new Error(`source ${partition} is no longer run here: its signals are left to its next owner`);
          await owned.signals.deliver(received);
        }
      },
      onRevocation: () => ownership.stopAll(),
      onAssignment: (assigned) => {
        for (const { partition } of assigned) {
          if (!ownership.running.has(partition)) ownership.running.set(partition, start(partition));
        }
      },
    });
    return ownership;
  }

  /** Indexes of the sources this process runs now. */
  get owned(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  get done(): Promise<void> {
    return this.consumer!.done;
  }

  async leave(): Promise<void> {
    await this.consumer?.stop();
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    const running = [...this.running.values()];
    this.running.clear();
    await Promise.all(running.map((source) => source.stop()));
  }
}
