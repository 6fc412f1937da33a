import { MemoryTransport } from '../../../topology/transports/memory.ts';
import type { Producer, ProducerOptions } from '../../../topology/transport.ts';

/**
 * A MemoryTransport that notes each acknowledged record (`topic op`, `topic token:phase`, or `topic tables` for
 * a token's table maps) in a shared journal, in ack order.
 */
export class JournalingTransport extends MemoryTransport {
  constructor(readonly journal: string[]) {
    super();
  }

  override async producer(options?: ProducerOptions): Promise<Producer> {
    const producer = await super.producer(options);
    return {
      send: async (records) => {
        await producer.send(records);
        for (const record of records) {
          const value = JSON.parse(record.value!.toString()) as { op?: string; phase?: string };
          const tables = record.key?.toString().endsWith('#tables') === true;
          this.journal.push(`${record.topic} ${tables ? 'tables' : (value.op ?? `token:${value.phase}`)}`);
        }
      },
      close: () => producer.close(),
    };
  }
}
