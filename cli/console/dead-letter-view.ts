import type { ChangeEvent, Row, Value } from '../../topology/change-event.ts';
import type { DeadLetterSample } from '../../topology/metrics.ts';
import type { EventSerde } from '../../topology/serde.ts';

/** A dead letter as the console shows it: decoded where the serde can, every value outside the key masked. */
export interface DeadLetterView {
  /** ISO time it was dead-lettered. */
  at: string;
  stage: string;
  reason: string;
  /** `topic/partition@offset` it was read from; absent for an event refused in the source stage. */
  origin?: string;
  payload: EventView | { undecodable: string; bytes: number };
}

export interface EventView {
  op: ChangeEvent['op'];
  table: string;
  position: string;
  key: Record<string, ShownValue>;
  before: Record<string, ShownValue> | null;
  after: Record<string, ShownValue> | null;
}

type ShownValue = string | number | boolean | null;

const SHOWN_CHARS = 200;
const SHOWN_BYTES = 32;

/**
 * Decodes dead letters for the console with the pipeline's serde, once each (a sample is decoded when
 * first shown, and forgotten with it when the ring buffer drops it).
 */
export class DeadLetterViews {
  private readonly decoded = new WeakMap<DeadLetterSample, Promise<DeadLetterView>>();

  constructor(private readonly serde: EventSerde) {}

  view(sample: DeadLetterSample): Promise<DeadLetterView> {
    let view = this.decoded.get(sample);
    if (view === undefined) {
      view = this.decode(sample);
      this.decoded.set(sample, view);
      // A failed look-up (the registry away) is tried again on the next poll.
      view.catch(() => this.decoded.delete(sample));
    }
    return view;
  }

  private async decode(sample: DeadLetterSample): Promise<DeadLetterView> {
    const { at, stage, reason, origin, record, event } = sample;
    const view = { at: new Date(at).toISOString(), stage, reason, ...(origin ? { origin: `${origin.topic}/${origin.partition}@${origin.offset}` } : {}) };
    if (event !== undefined) return { ...view, payload: eventView(event) };
    const bytes = (record?.key?.length ?? 0) + (record?.value?.length ?? 0);
    if (record?.value == null || origin === undefined) return { ...view, payload: { undecodable: 'the record has no value', bytes } };
    const [decoded] = await this.serde.decode([{ ...origin, key: record.key, value: record.value }]);
    return { ...view, payload: decoded instanceof Error ? { undecodable: decoded.message, bytes } : eventView(decoded!) };
  }
}

/**
 * The event with its key shown (it names the row, as maskColumns keeps it too) and every other value
 * masked: a dead letter's payload may hold personal data, and what makes a row fail (its columns, a
 * value's size, NULL or not) still shows.
 */
function eventView(event: ChangeEvent): EventView {
  const keyColumns = new Set(Object.keys(event.key));
  const masked = (row: Row | null) =>
    row === null ? null : Object.fromEntries(Object.entries(row).map(([column, value]) => [column, keyColumns.has(column) ? shown(value) : mask(value)]));
  return {
    op: event.op,
    table: `${event.source.db}.${event.source.table}`,
    position: event.source.position,
    key: Object.fromEntries(Object.entries(event.key).map(([column, value]) => [column, shown(value)])),
    before: masked(event.before),
    after: masked(event.after),
  };
}

function shown(value: Value): ShownValue {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return `0x${value.subarray(0, SHOWN_BYTES).toString('hex')}${value.length > SHOWN_BYTES ? '…' : ''}`;
  if (typeof value === 'string' && value.length > SHOWN_CHARS) return `${value.slice(0, SHOWN_CHARS)}…`;
  return value;
}

function mask(value: Value): ShownValue {
  if (value === null) return null;
  if (typeof value === 'string') return `*** (${value.length} chars)`;
  if (Buffer.isBuffer(value)) return `*** (${value.length} bytes)`;
  return '***';
}
