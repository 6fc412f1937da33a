/**
 * The three sink targets of the sink benchmarks, each in a scratch database (MariaDB, MongoDB) or schema
 * (PostgreSQL) of the stack's servers that `drop` removes: a sink writing there, and a count of its rows.
 */
import { MySqlSink } from '../../connectors/mysql/sink.ts';
import { PostgresSink } from '../../connectors/postgres/sink.ts';
import { MongoSink } from '../../connectors/mongodb/sink.ts';
import type { SinkConnector } from '../../topology/sink.ts';
import { scratchMariaDb, scratchMongo, scratchPostgres } from '../../test/connectors/support/targets.ts';

export interface BenchTarget {
  sink: SinkConnector;
  /** Rows (documents) of `table` in the target. */
  count(table: string): Promise<number>;
  drop(): Promise<void>;
}

export const benchTargets: ReadonlyArray<{ system: string; make: () => Promise<BenchTarget> }> = [
  {
    system: 'MariaDB',
    async make() {
      const scratch = await scratchMariaDb('bench');
      return {
        sink: new MySqlSink({ name: 'bench-mariadb', url: scratch.url, manageTables: true, connections: 8 }),
        async count(table) {
          const [rows] = await scratch.connection.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
          return Number((rows as Array<{ n: number }>)[0]!.n);
        },
        drop: () => scratch.drop(),
      };
    },
  },
  {
    system: 'PostgreSQL',
    async make() {
      const scratch = await scratchPostgres('bench');
      return {
        sink: new PostgresSink({ name: 'bench-postgres', url: scratch.url, schema: scratch.name, manageTables: true, connections: 8 }),
        async count(table) {
          const result = await scratch.client.query(`SELECT COUNT(*) AS n FROM "${scratch.name}"."${table}"`);
          return Number(result.rows[0].n);
        },
        drop: () => scratch.drop(),
      };
    },
  },
  {
    system: 'MongoDB',
    async make() {
      const scratch = await scratchMongo('bench');
      return {
        sink: new MongoSink({ name: 'bench-mongodb', url: scratch.url, database: scratch.name }),
        count: (table) => scratch.client.db(scratch.name).collection(table).countDocuments(),
        drop: () => scratch.drop(),
      };
    },
  },
];
