import type { Row } from '../../../topology/change-event.ts';
import type { RejectedRecord, SinkConnector, SinkRecord } from '../../../topology/sink.ts';

/** An idempotent sink over a Map (docs/design.md, idempotent apply), recording what each partition applied. */
export class MemorySink implements SinkConnector {
  readonly rows = new Map<string, Row>();
  readonly applied = new Map<number, SinkRecord[]>();
  /** Rejects (for the dead-letter topic) the records this selects. */
  reject: (record: SinkRecord) => string | undefined = () => undefined;
  /** Makes the next apply calls fail with these errors, one each. */
  readonly failures: Error[] = [];

  constructor(readonly name = 'memory') {}

  async start(): Promise<void> {}

  async apply(batch: readonly SinkRecord[]): Promise<{ rejected: RejectedRecord[] }> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const rejected: RejectedRecord[] = [];
    for (const record of batch) {
      const reason = this.reject(record);
      if (reason !== undefined) {
        rejected.push({ record, reason });
        continue;
      }
      const { event } = record;
      // A truncate or snapshot end marker removes rows older than its position: this sink keeps no positions.
      if (event.op === 't') continue;
      const key = `${event.source.db}.${event.source.table}/${JSON.stringify(event.key)}`;
      if (event.op === 'd') this.rows.delete(key);
      else this.rows.set(key, event.after!);
      const applied = this.applied.get(record.partition) ?? [];
      applied.push(record);
      this.applied.set(record.partition, applied);
    }
    return { rejected };
  }

  async close(): Promise<void> {}

  /** The rows as plain, comparable data. */
  state(): Record<string, Row> {
    return Object.fromEntries([...this.rows].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
