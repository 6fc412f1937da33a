import type { ChangeEvent, Row, TableSchema } from '../../../topology/change-event.ts';
import { seededRandom } from './random.ts';

/**
 * A valid change stream of one table (id BIGINT key, name VARCHAR(32), n INT), generated on demand so
 * that a million events need not sit in memory at once: 50% inserts of new keys, 35% updates and 15%
 * deletes of live keys. `rows` is the source table after the events generated so far, which is what
 * every sink must end with once it applied them all. Positions are zero-padded sequence numbers.
 */
export class MixedWorkload {
  readonly schema: TableSchema;
  readonly rows = new Map<bigint, Row>();
  private readonly live: bigint[] = [];
  private readonly random: () => number;
  private nextId = 1n;
  private sequence = 0;

  constructor(db: string, table: string, seed: number) {
    this.schema = {
      db,
      table,
      columns: [
        { name: 'id', type: 'bigint', nullable: false },
        { name: 'name', type: 'varchar', length: 32, nullable: false },
        { name: 'n', type: 'int', nullable: false },
      ],
      primaryKey: ['id'],
      uniqueKeys: [],
    };
    this.random = seededRandom(seed);
  }

  /** The next `count` events of the stream. */
  next(count: number): ChangeEvent[] {
    const { schema } = this;
    const out: ChangeEvent[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.sequence++;
      const roll = this.random();
      const source = { connector: 'mysql' as const, name: schema.db, db: schema.db, table: schema.table, position: String(n).padStart(12, '0'), tsMs: 0, snapshot: false };
      if (roll < 0.5 || this.live.length === 0) {
        const id = this.nextId++;
        const after = { id, name: `name-${id}`, n };
        this.live.push(id);
        this.rows.set(id, after);
        out.push({ op: 'c', key: { id }, before: null, after, source, tsMs: 0, schema });
        continue;
      }
      const index = Math.floor(this.random() * this.live.length);
      const id = this.live[index]!;
      const before = this.rows.get(id)!;
      if (roll < 0.85) {
        const after = { ...before, n };
        this.rows.set(id, after);
        out.push({ op: 'u', key: { id }, before, after, source, tsMs: 0, schema });
      } else {
        this.live[index] = this.live[this.live.length - 1]!;
        this.live.pop();
        this.rows.delete(id);
        out.push({ op: 'd', key: { id }, before, after: null, source, tsMs: 0, schema });
      }
    }
    return out;
  }

  /** The next `count` events, `size` at a time (generated as they are taken). */
  *chunks(count: number, size = 10_000): Generator<ChangeEvent[]> {
    for (let taken = 0; taken < count; taken += size) yield this.next(Math.min(size, count - taken));
  }

  /** The source table now, ordered by id, each row as [id, name, n] in text (how a test compares a target's rows). */
  expectedRows(): string[][] {
    return [...this.rows.values()]
      .sort((a, b) => ((a.id as bigint) < (b.id as bigint) ? -1 : 1))
      .map((row) => [String(row.id), String(row.name), String(row.n)]);
  }
}
