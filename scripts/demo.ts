/**
 * `npm run demo`: the whole product on the local stack, finishing by itself.
 * 1. brings the stack up (idempotent);
 * 2. makes a small `shop` database in the stack's MariaDB (customers with a unique email, orders);
 * 3. runs a pipeline (MariaDB binlog → Avro on Kafka → repartition → MariaDB replica) in this process;
 * 4. runs a live write load on the source for DEMO_SECONDS (default 10), showing progress;
 * 5. waits for the replica to catch up and prints the `verify` table; exits 0 only when equal.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { parseConfig } from '../cli/config.ts';
import { buildPipeline } from '../cli/pipeline.ts';
import { formatComparisons, isEqual, verifyPipeline, type TableComparison } from '../cli/verify.ts';
import { stopOnSignals } from '../topology/shutdown.ts';
import { stackEnv } from './stack/env.ts';
import { ROOT } from './stack/paths.ts';

const SECONDS = Number(process.env.DEMO_SECONDS ?? 10);
const CATCH_UP_TIMEOUT_MS = 120_000;

function step(message: string): void {
  console.log(`\n▶ ${message}`);
}

async function main(): Promise<number> {
  step('local stack');
  const up = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/stack.ts', 'up'], { cwd: ROOT, stdio: 'inherit' });
  if (up.status !== 0) return up.status ?? 1;
  const env = stackEnv();

  const run = randomUUID().slice(0, 6);
  const shop = `demo_shop_${run}`;
  const replica = `demo_replica_${run}`;
  const serverUrl = new URL(env.MYSQL_URL);
  const pool = mysql.createPool({ host: serverUrl.hostname, port: Number(serverUrl.port), user: decodeURIComponent(serverUrl.username), password: decodeURIComponent(serverUrl.password), connectionLimit: 4 });
  try {
    step(`source database ${shop} (previous demo databases are dropped)`);
    await dropPreviousDemos(pool);
    await createShop(pool, shop);

    const config = parseConfig(
      `pipeline: demo-${run}
kafka: { brokers: [${env.KAFKA_BROKERS.split(',').map((b) => `'${b}'`).join(', ')}] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: shop, type: mysql, url: '${env.MYSQL_URL}', include: ['${shop}.*'], chunkSize: 500 }
repartition: { partitions: 4 }
sinks:
  - { name: replica, type: mysql, url: '${env.MYSQL_URL}/${replica}' }
`,
      'demo config',
    );
    await pool.query(`CREATE DATABASE \`${replica}\``);
    const { topology, transport } = buildPipeline(config, { warn: (message) => console.log(`  warning: ${message}`) });
    step('pipeline');
    console.log(topology.describe().toString());
    const running = await topology.start(transport);
    const removeSignals = stopOnSignals(running);
    let failed: unknown;
    running.done.catch((error: unknown) => (failed = error));
    try {
      step(`live write load for ${SECONDS} s`);
      await writeLoad(pool, shop, replica, SECONDS * 1000, () => failed);
      step('waiting for the replica to catch up');
      const results = await waitUntilEqual(config, () => failed);
      step('verify');
      console.log(formatComparisons(results));
      const equal = isEqual(results);
      console.log(equal ? '\nsource and replica are equal' : '\nsource and replica DIFFER');
      return equal ? 0 : 1;
    } finally {
      removeSignals();
      await running.stop();
      await transport.close();
      if (failed) console.error(`pipeline stopped with: ${(failed as Error).message}`);
    }
  } finally {
    await pool.end();
  }
}

async function dropPreviousDemos(pool: mysql.Pool): Promise<void> {
  const [rows] = (await pool.query(
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'demo\\_shop\\_%' OR SCHEMA_NAME LIKE 'demo\\_replica\\_%'",
  )) as unknown as [Array<{ name: string }>];
  for (const { name } of rows) await pool.query(`DROP DATABASE \`${name}\``);
}

async function createShop(pool: mysql.Pool, db: string): Promise<void> {
  const connection = await pool.getConnection();
  try {
    await seedShop(connection, db);
  } finally {
    connection.release();
  }
}

async function seedShop(connection: mysql.PoolConnection, db: string): Promise<void> {
  await connection.query(`CREATE DATABASE \`${db}\``);
  // The seed rows come from recursive CTEs, which MariaDB stops at 1000 iterations by default.
  await connection.query('SET SESSION max_recursive_iterations = 100000');
  await connection.query(`CREATE TABLE \`${db}\`.customers (
    id INT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(64) NOT NULL,
    name VARCHAR(64) NOT NULL,
    tier ENUM('bronze', 'silver', 'gold') NOT NULL DEFAULT 'bronze',
    balance DECIMAL(12, 2) NOT NULL DEFAULT 0,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY uk_email (email))`);
  await connection.query(`CREATE TABLE \`${db}\`.orders (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id INT NOT NULL,
    total DECIMAL(12, 2) NOT NULL,
    status ENUM('new', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'new',
    note TEXT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`);
  await connection.query(
    `INSERT INTO \`${db}\`.customers (email, name, tier, balance)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
     SELECT CONCAT('customer', i, '@example.com'), CONCAT('Customer ', i), ELT(1 + i % 3, 'bronze', 'silver', 'gold'), i * 1.25 FROM n`,
  );
  await connection.query(
    `INSERT INTO \`${db}\`.orders (customer_id, total, status, note)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
     SELECT 1 + i % 2000, i % 500 + 0.99, ELT(1 + i % 4, 'new', 'paid', 'shipped', 'cancelled'), IF(i % 5 = 0, NULL, CONCAT('order ', i)) FROM n`,
  );
  console.log('  2000 customers, 5000 orders (these arrive through the snapshot)');
}

const random = (n: number) => Math.floor(Math.random() * n);

/** Transactions of the kinds a shop makes, including two customers swapping their unique emails. */
async function writeLoad(pool: mysql.Pool, db: string, replica: string, durationMs: number, failed: () => unknown): Promise<void> {
  const deadline = Date.now() + durationMs;
  let transactions = 0;
  let lastReport = Date.now();
  while (Date.now() < deadline && !failed()) {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      const [a, b] = [1 + random(2000), 1 + random(2000)];
      switch (random(6)) {
        case 0:
          await connection.query(`INSERT INTO \`${db}\`.customers (email, name) VALUES (?, ?)`, [`new-${randomUUID()}@example.com`, 'New customer']);
          break;
        case 1:
          await connection.query(`UPDATE \`${db}\`.customers SET balance = balance + ?, updated_at = NOW(6) WHERE id = ?`, [random(10_000) / 100, a]);
          break;
        case 2:
          if (a !== b) {
            // Swap two unique emails through a temporary value, as an application must.
            const [[first], [second]] = (await Promise.all([
              connection.query(`SELECT email FROM \`${db}\`.customers WHERE id = ?`, [a]).then(([r]) => r),
              connection.query(`SELECT email FROM \`${db}\`.customers WHERE id = ?`, [b]).then(([r]) => r),
            ])) as unknown as [[{ email: string }?], [{ email: string }?]];
            if (first && second) {
              await connection.query(`UPDATE \`${db}\`.customers SET email = ? WHERE id = ?`, [`swap-${randomUUID()}`, a]);
              await connection.query(`UPDATE \`${db}\`.customers SET email = ? WHERE id = ?`, [first.email, b]);
              await connection.query(`UPDATE \`${db}\`.customers SET email = ? WHERE id = ?`, [second.email, a]);
            }
          }
          break;
        case 3:
          await connection.query(`INSERT INTO \`${db}\`.orders (customer_id, total, note) VALUES (?, ?, ?), (?, ?, NULL)`, [a, random(50_000) / 100, 'live order', b, random(50_000) / 100]);
          break;
        case 4:
          await connection.query(`UPDATE \`${db}\`.orders SET status = ELT(1 + FLOOR(RAND() * 4), 'new', 'paid', 'shipped', 'cancelled') WHERE customer_id = ?`, [a]);
          break;
        default:
          await connection.query(`DELETE FROM \`${db}\`.orders WHERE customer_id = ? AND status = 'cancelled'`, [a]);
      }
      await connection.commit();
      transactions++;
    } finally {
      connection.release();
    }
    if (Date.now() - lastReport >= 1000) {
      lastReport = Date.now();
      console.log(`  ${transactions} source transactions | replica rows: ${await replicaRows(pool, replica)}`);
    }
  }
  console.log(`  ${transactions} source transactions in ${durationMs / 1000} s`);
}

async function replicaRows(pool: mysql.Pool, replica: string): Promise<string> {
  const [rows] = (await pool.query(
    'SELECT TABLE_NAME AS name, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME NOT LIKE ?',
    [replica, '%\\_\\_cdc%'],
  )) as unknown as [Array<{ name: string; estimate: number }>];
  return rows.map((r) => `${r.name} ~${r.estimate}`).join(', ') || 'none yet';
}

async function waitUntilEqual(config: Parameters<typeof verifyPipeline>[0], failed: () => unknown): Promise<TableComparison[]> {
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  while (true) {
    const results = await verifyPipeline(config);
    if (isEqual(results) || Date.now() > deadline || failed()) return results;
    const behind = results.reduce((n, r) => n + r.differingChunks, 0);
    console.log(`  ${behind} chunk(s) still differ; checking again`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  },
);
