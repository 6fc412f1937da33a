/**
 * Encode and decode throughput of AvroEventSerde for a 10-column row, on one core, with schemas
 * already registered (an in-memory registry: the hot path makes no registry call anyway).
 * Prints figures; asserts nothing. Run: node --import tsx scripts/bench-serdes.ts
 */
import type { ChangeEvent, TableSchema } from '../topology/change-event.ts';
import type { RawRecord } from '../topology/serde.ts';
import { AvroEventSerde } from '../serdes/avro-serde.ts';
import { MemoryRegistry } from '../test/serdes/memory-registry.ts';

const table: TableSchema = {
  db: 'shop',
  table: 'orders',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'customer_id', type: 'int', nullable: false },
    { name: 'status', type: 'enum', values: ['new', 'paid', 'shipped'], nullable: false },
    { name: 'total', type: 'decimal', precision: 12, scale: 2, nullable: false },
    { name: 'currency', type: 'char', length: 3, nullable: false },
    { name: 'note', type: 'varchar', length: 255, nullable: true },
    { name: 'created_at', type: 'datetime', precision: 6, nullable: false },
    { name: 'paid_at', type: 'timestamp', nullable: true },
    { name: 'weight', type: 'double', nullable: true },
    { name: 'flags', type: 'bit', length: 8, nullable: false },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

const BATCH = 1000;
const ROUNDS = 200;

const events: ChangeEvent[] = Array.from({ length: BATCH }, (_, i) => {
  const after = {
    id: BigInt(1_000_000 + i),
    customer_id: i % 5000,
    status: 'paid',
    total: `${i}.99`,
    currency: 'EUR',
    note: i % 3 === 0 ? null : 'leave at the door',
    created_at: '2024-05-01 12:34:56.123456',
    paid_at: '2024-05-01 12:35:00',
    weight: 1.25 * i,
    flags: Buffer.from([i & 0xff]),
  };
  return {
    op: 'u',
    key: { id: after.id },
    before: after,
    after,
    source: { connector: 'mysql', name: 'bench', db: 'shop', table: 'orders', position: String(i).padStart(12, '0'), tsMs: 1, snapshot: false },
    tsMs: 2,
    schema: table,
  };
});

async function rate(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (BATCH * ROUNDS) / seconds;
}

const serde = new AvroEventSerde({ registry: new MemoryRegistry(), prefix: 'bench' });
const encoded = await serde.encode('orders', events);
const records: RawRecord[] = encoded.map(({ key, value }, i) => ({ topic: 'orders', partition: 0, offset: String(i), key, value }));

const encodeRate = await rate(() => serde.encode('orders', events));
const decodeRate = await rate(() => serde.decode(records));
const bytes = encoded.reduce((sum, r) => sum + (r.key?.length ?? 0) + r.value.length, 0) / BATCH;
console.log(`10-column row (update: before + after), ${BATCH}-event batches, ${bytes.toFixed(0)} bytes/event on the wire`);
console.log(`encode: ${Math.round(encodeRate).toLocaleString('en-US')} events/s`);
console.log(`decode: ${Math.round(decodeRate).toLocaleString('en-US')} events/s`);
