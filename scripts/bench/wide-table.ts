/**
 * The 10-column, mixed-type table scripts/bench-mysql-source.ts snapshots and streams, with the same
 * definition and the same generated rows, so Debezium reads what our source read.
 */
import type { Connection } from 'mysql2/promise';

export const WIDE_TABLE = 'wide';

export async function createWideTable(admin: Connection, db: string): Promise<void> {
  await admin.query('CREATE DATABASE IF NOT EXISTS ??', [db]);
  await admin.query(`CREATE TABLE \`${db}\`.${WIDE_TABLE} (
    id BIGINT PRIMARY KEY, a INT, b INT UNSIGNED, c VARCHAR(40), d DECIMAL(12,2), e DOUBLE, f DATETIME(6), g DATE, h TINYINT, i TEXT)`);
}

/** Rows `from`..`to` (ids), 10 000 per transaction, from MariaDB's seq_N_to_M sequence tables. */
export async function loadWideRows(admin: Connection, db: string, from: number, to: number): Promise<void> {
  for (let start = from; start <= to; start += 10_000) {
    const end = Math.min(to, start + 9_999);
    await admin.query(
      `INSERT INTO \`${db}\`.${WIDE_TABLE} SELECT seq, seq % 1000, seq * 3, CONCAT('name ', seq), seq / 7, seq * 1.5,
         '2024-01-02 03:04:05.123456' + INTERVAL seq SECOND, '2024-01-02' + INTERVAL seq % 3000 DAY, seq % 100, REPEAT('x', 20)
         FROM \`${db}\`.seq_${start}_to_${end}`,
    );
  }
}

/** Rows in `db`.wide. */
export async function countWideRows(admin: Connection, db: string): Promise<number> {
  const [counted] = await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.${WIDE_TABLE}`);
  return Number((counted as Array<{ n: number }>)[0]!.n);
}

/** How often an apply run counts the target's rows: its figures are this precise, ours and Debezium's alike. */
export const APPLY_POLL_MS = 200;
