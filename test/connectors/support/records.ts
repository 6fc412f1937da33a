import { truncateEvent, type ChangeEvent, type Row, type TableSchema } from '../../../topology/change-event.ts';
import type { SinkRecord } from '../../../topology/sink.ts';

/** A hand-made record of table `t` at `position` (zero-padded by the caller's numbers). */
export function record(schema: TableSchema, op: ChangeEvent['op'], before: Row | null, after: Row | null, position: number, offset = position): SinkRecord {
  const image = after ?? before ?? {};
  return {
    event: {
      op,
      key: Object.fromEntries(schema.primaryKey.map((column) => [column, image[column] ?? null])),
      before,
      after,
      source: { connector: 'mysql', name: 'test', db: schema.db, table: schema.table, position: String(position).padStart(12, '0'), tsMs: 0, snapshot: op === 'r' },
      tsMs: 0,
      schema,
    },
    topic: 'changes',
    partition: 0,
    offset: String(offset),
  };
}

/** A hand-made `t` of table `t` at `position`. */
export function truncateRecord(schema: TableSchema, position: number, offset = position): SinkRecord {
  const template = record(schema, 'c', null, {}, position, offset);
  return { ...template, event: truncateEvent(template.event.source, schema) };
}

/** id INT key, a TINYINT NOT NULL, note VARCHAR(10) NOT NULL, big BIGINT, amount DECIMAL(10,2), at DATETIME(3), raw VARBINARY(8). */
export const typedSchema: TableSchema = {
  db: 'shop',
  table: 'items',
  columns: [
    { name: 'id', type: 'int', nullable: false },
    { name: 'a', type: 'tinyint', nullable: false },
    { name: 'note', type: 'varchar', length: 10, nullable: false },
    { name: 'big', type: 'bigint', nullable: true },
    { name: 'amount', type: 'decimal', precision: 10, scale: 2, nullable: true },
    { name: 'at', type: 'datetime', precision: 3, nullable: true },
    { name: 'raw', type: 'varbinary', length: 8, nullable: true },
  ],
  primaryKey: ['id'],
  uniqueKeys: [],
};

export function typedRow(id: number, a: number | null, note: string | null): Row {
  return { id, a, note, big: 9_007_199_254_740_993n, amount: '12345678.90', at: '2024-02-29 23:59:59.123', raw: Buffer.from([0, 1, 2, 255]) };
}
