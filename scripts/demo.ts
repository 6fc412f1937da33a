/**
 * `npm run demo`: the whole product on the local stack, as an operator runs it, finishing by itself.
 * 1. brings the stack up (idempotent);
 * 2. makes a small `shop` database in the stack's MariaDB (customers with a unique email, orders) and a
 *    `catalog` database with a `products` collection in the MongoDB test server;
 * 3. writes a pipeline config and starts `cdc run` in the background (MariaDB binlog and MongoDB change
 *    stream → Avro on Kafka → repartition → a MariaDB replica and a MongoDB replica);
 * 4. runs a live write load on both sources for DEMO_SECONDS (default 10), showing progress;
 * 5. runs `cdc verify` until the replicas caught up and prints its table; exits 0 only when equal.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Decimal128, MongoClient, type Db } from 'mongodb';
import mysql from 'mysql2/promise';
import { stackEnv } from './stack/env.ts';
import { ROOT } from './stack/paths.ts';

const SECONDS = Number(process.env.DEMO_SECONDS ?? 10);
const CATCH_UP_TIMEOUT_MS = 120_000;
const CDC = join(ROOT, 'bin', 'cdc.js');

function step(message: string): void {
  console.log(`\n▶ ${message}`);
}

/** `cdc <args>` to its end, its output on this terminal; resolves with its exit code. */
function cdc(args: string[], quiet = false): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CDC, ...args], { cwd: ROOT, stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'inherit'] });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  step('local stack');
  const up = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/stack.ts', 'up'], { cwd: ROOT, stdio: 'inherit' });
  if (up.status !== 0) return up.status ?? 1;
  const env = stackEnv();

  const run = randomUUID().slice(0, 6);
  const shop = `demo_shop_${run}`;
  const replica = `demo_replica_${run}`;
  const catalog = `demo_catalog_${run}`;
  const serverUrl = new URL(env.MYSQL_URL);
  const pool = mysql.createPool({ host: serverUrl.hostname, port: Number(serverUrl.port), user: decodeURIComponent(serverUrl.username), password: decodeURIComponent(serverUrl.password), connectionLimit: 4 });
  const mongo = await new MongoClient(env.MONGODB_URL).connect();
  try {
    step(`source databases: MariaDB ${shop}, MongoDB ${catalog} (previous demo databases are dropped)`);
    await dropPreviousDemos(pool, mongo);
    await createShop(pool, shop);
    await pool.query(`CREATE DATABASE \`${replica}\``);
    await seedCatalog(mongo.db(catalog));

    const configFile = join(ROOT, '.stack', `demo-${run}.yaml`);
    mkdirSync(join(ROOT, '.stack'), { recursive: true });
    writeFileSync(
      configFile,
      `pipeline: demo-${run}
kafka: { brokers: [${env.KAFKA_BROKERS.split(',').map((b) => `'${b}'`).join(', ')}] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: shop, type: mysql, url: '${env.MYSQL_URL}', include: ['${shop}.*'], chunkSize: 500 }
  - { name: catalog, type: mongodb, url: '${env.MONGODB_URL}', database: ${catalog}, chunkSize: 200 }
repartition: { partitions: 4 }
sinks:
  - { name: replica, type: mysql, url: '${env.MYSQL_URL}/${replica}', include: ['${shop}.*'] }
  - { name: catalog-replica, type: mongodb, url: '${env.MONGODB_URL}', database: ${replica}, include: ['${catalog}.*'] }
metrics: { port: 0 }
`,
    );
    step(`pipeline (config: ${configFile})`);
    await cdc(['describe', '--config', configFile]);

    step('cdc run, in the background');
    const pipeline = spawn(process.execPath, [CDC, 'run', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let exited: number | null | undefined;
    pipeline.on('close', (code) => (exited = code));
    createInterface({ input: pipeline.stdout }).on('line', (line) => console.log(`  [cdc] ${summarizeLog(line)}`));
    const failed = () => (exited !== undefined ? `cdc run exited with ${exited}` : undefined);
    try {
      step(`live write load for ${SECONDS} s`);
      await writeLoad(pool, mongo.db(catalog), shop, replica, SECONDS * 1000, failed);
      step('cdc verify, until the replicas caught up');
      const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
      let code = await cdc(['verify', '--config', configFile], true);
      while (code !== 0 && Date.now() < deadline && !failed()) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        code = await cdc(['verify', '--config', configFile], true);
      }
      code = await cdc(['verify', '--config', configFile]);
      console.log(code === 0 ? '\nsources and replicas are equal' : `\nsources and replicas DIFFER${failed() ? ` (${failed()})` : ''}`);
      return code;
    } finally {
      if (exited === undefined) {
        pipeline.kill('SIGTERM');
        await new Promise((resolve) => pipeline.once('close', resolve));
      }
    }
  } finally {
    await pool.end();
    await mongo.close();
  }
}

/** A `cdc run` log line as a short line on the demo's screen. */
function summarizeLog(line: string): string {
  try {
    const { level, time: _time, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (msg === 'progress') {
      const { sources, stages } = fields as { sources: Record<string, { phase: string; snapshot: { rows: number } }>; stages: Record<string, { out: number }> };
      const phases = Object.entries(sources).map(([name, s]) => `${name} ${s.phase} (snapshot ${s.snapshot.rows} rows)`);
      const applied = Object.entries(stages).filter(([stage]) => stage.startsWith('sink:')).map(([stage, t]) => `${stage.slice(5)} applied ${t.out}`);
      return `progress: ${[...phases, ...applied].join(', ')}`;
    }
    return `${level === 'info' ? '' : `${String(level).toUpperCase()} `}${String(msg)} ${JSON.stringify(fields)}`;
  } catch {
    return line;
  }
}

async function dropPreviousDemos(pool: mysql.Pool, mongo: MongoClient): Promise<void> {
  const [rows] = (await pool.query(
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'demo\\_shop\\_%' OR SCHEMA_NAME LIKE 'demo\\_replica\\_%'",
  )) as unknown as [Array<{ name: string }>];
  for (const { name } of rows) await pool.query(`DROP DATABASE \`${name}\``);
  const { databases } = await mongo.db('admin').admin().listDatabases();
  for (const { name } of databases) if (/^demo_(catalog|replica)_/.test(name)) await mongo.db(name).dropDatabase();
}

/** Products with the BSON types a catalog has: ObjectId ids, Decimal128 prices, dates, nested arrays. */
async function seedCatalog(db: Db): Promise<void> {
  await db.collection<Product>('products').insertMany(
    Array.from({ length: 300 }, (_, i) => ({
      sku: `SKU-${i}`,
      name: `Product ${i}`,
      price: Decimal128.fromString(`${(i % 90) + 9}.99`),
      tags: ['demo', i % 2 ? 'odd' : 'even'],
      stock: { warehouse: i % 3, units: i * 7 },
      addedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))),
    })),
  );
  console.log('  300 products (these arrive through the snapshot)');
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
async function writeLoad(pool: mysql.Pool, catalog: Db, db: string, replica: string, durationMs: number, failed: () => unknown): Promise<void> {
  const deadline = Date.now() + durationMs;
  let transactions = 0;
  let lastReport = Date.now();
  while (Date.now() < deadline && !failed()) {
    await changeCatalog(catalog);
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

interface Product {
  sku: string;
  name: string;
  price: Decimal128;
  tags: string[];
  stock?: { warehouse: number; units: number };
  addedAt: Date;
}

/** One change to the catalog: a new product, a price change, a restock (nested field) or a removal. */
async function changeCatalog(catalog: Db): Promise<void> {
  const products = catalog.collection<Product>('products');
  const sku = `SKU-${random(400)}`;
  switch (random(4)) {
    case 0:
      await products.insertOne({ sku: `NEW-${randomUUID()}`, name: 'New product', price: Decimal128.fromString('19.99'), tags: ['new'], addedAt: new Date() });
      break;
    case 1:
      await products.updateOne({ sku }, { $set: { price: Decimal128.fromString(`${random(100)}.${10 + random(90)}`) } });
      break;
    case 2:
      await products.updateOne({ sku }, { $inc: { 'stock.units': 5 }, $push: { tags: 'restocked' } });
      break;
    default:
      await products.deleteOne({ sku });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  },
);
