import type { ChangeEvent, Row } from '../../../topology/change-event.ts';
import { JsonSerde } from '../../../topology/json-serde.ts';
import { topics } from '../../../topology/topics.ts';
import type { MemoryTransport } from '../../../topology/transports/memory.ts';

const serde = new JsonSerde();

/** The change topic of the FakeSource `src` on the memory transport, decoded (the topology tests' JSON serde). */
export async function changeTopicEvents(transport: MemoryTransport, pipeline: string): Promise<ChangeEvent[]> {
  return (await serde.decode(transport.records(topics.change(pipeline, 'src')))) as ChangeEvent[];
}

/** What a consumer that keeps the last event per key of the change topic ends with, for one table (`t` markers aside). */
export function lastEventPerKey(events: readonly ChangeEvent[], table: string): Map<number, Row> {
  const rows = new Map<number, Row>();
  for (const event of events) {
    if (event.source.table !== table || event.op === 't') continue;
    if (event.op === 'd') rows.delete(Number(event.key.id));
    else rows.set(Number(event.key.id), event.after!);
  }
  return rows;
}
