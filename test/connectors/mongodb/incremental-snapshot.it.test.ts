/**
 * Incremental snapshots of a MongoDB source end to end (docs/incremental-snapshots.md,
 * docs/mongodb-source.md): `cdc run` of MongoDB → Kafka → MongoDB (the test server, two databases) in
 * child processes, requests sent with `cdc snapshot`, and a plain consumer of the change topic
 * (@kafkajs/confluent-schema-registry's decode, last event per key, test/faults/support.ts):
 *
 * 1. a 20,000-document collection of a source that took no initial snapshot, snapshotted while writers
 *    update, delete and insert documents of it and of another captured collection: `cdc verify` finds the
 *    copy equal (also without a document the source never had); the plain consumer holds the source (every
 *    document arrived, and none of a chunk hides a newer change of it); the request's notifications come in
 *    the documented order, on the notifications topic as `cdc snapshot` printed them;
 * 2. a collection added to `collections.include`, the pipeline restarted while writers change it: only its
 *    documents arrive as `r` events, `cdc status --json` shows it captured since the restart, verify equal,
 *    the plain consumer holds the source, the notifications of the `added:` request in order.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from 'mongodb';
import { formatPosition } from '../../../connectors/mongodb/position.ts';
import { POSITION_FIELD } from '../../../connectors/mongodb/sink.ts';
import { parseNotification, type NotificationRecord } from '../../../topology/notifications.ts';
import { topics } from '../../../topology/topics.ts';
import {
  assertSameRows,
  cleanUp,
  deleteTopics,
  FaultConfig,
  faultName,
  killStrayRuns,
  lastEventPerKey,
  opCounts,
  plainChanges,
  readTopic,
  snapshotCli,
  SOURCE,
  startRun,
  statusCli,
  tail,
  untilVerified,
  type PlainChange,
} from '../../faults/support.ts';
import type { BackgroundRun } from '../../cli/support/cli.ts';
import { scratchMongo } from '../support/targets.ts';
import { insertOrders, Writer, type Order } from './cli-pipeline.ts';
import { consumedState } from './pipeline-harness.ts';
import { freshDatabase } from './source-harness.ts';

interface Pipeline {
  config: FaultConfig;
  source: Db;
  /** The source database's name: change events name their collections `<database>.<collection>`. */
  database: string;
  copy: Db;
}

/** A MongoDB → Kafka → MongoDB pipeline of a fresh source database, copy database and topics, removed after `body`. */
async function withPipeline(name: string, source: { chunkSize: number; snapshot?: string; collections?: string[] }, body: (pipeline: Pipeline) => Promise<void>): Promise<void> {
  const database = await freshDatabase(`mongo_inc_${name}`);
  const copy = await scratchMongo(`inc_${name}`);
  const config = new FaultConfig({
    pipeline: faultName(`mongo_inc_${name}`),
    source: { type: 'mongodb', url: database.url, database: database.name, ...source },
    sink: { type: 'mongodb', url: copy.url, database: copy.name },
  });
  try {
    await body({ config, source: database.db, database: database.name, copy: copy.client.db(copy.name) });
  } finally {
    await cleanUp(
      () => killStrayRuns(config.file),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
      () => copy.drop(),
      () => database.drop(),
    );
  }
}

async function stopRun(run: BackgroundRun): Promise<void> {
  assert.equal(await run.stop(), 0, tail(run));
}

/** The notifications of request `id` on the notifications topic, in order. */
async function notificationsOf(config: FaultConfig, id: string): Promise<NotificationRecord[]> {
  return (await readTopic(topics.notifications(config.pipeline))).map((record) => parseNotification(record.value)!).filter((notification) => 'id' in notification && notification.id === id);
}

/** A notification without what varies from run to run: when it was written, and a duration (its type only). */
function comparable({ at: _at, pipeline: _pipeline, ...notification }: NotificationRecord): Record<string, unknown> {
  return 'durationMs' in notification ? { ...notification, durationMs: typeof notification.durationMs } : notification;
}

/** The number of `r` records per key of `table`. */
function snapshotReads(changes: readonly PlainChange[], table: string): Map<string, number> {
  const reads = new Map<string, number>();
  for (const { table: of, op, key } of changes) if (of === table && op === 'r') reads.set(key!, (reads.get(key!) ?? 0) + 1);
  return reads;
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

test('an incremental snapshot of 20,000 documents while writers change it and another captured collection: verify equal, a plain consumer holds the source, the notifications in order', { timeout: 300_000 }, async (t: TestContext) => {
  const ORDERS = 20_000;
  const CUSTOMERS = 3_000;
  const CHUNK = 2_500;
  // snapshot: never, so the incremental snapshot is the only way the existing orders reach Kafka.
  await withPipeline('under_writes', { chunkSize: CHUNK, snapshot: 'never' }, async ({ config, source, database, copy }) => {
    const startedAt = performance.now();
    const orders = source.collection<Order>('orders');
    const customers = source.collection<Order>('customers');
    await insertOrders(orders, ORDERS);
    // Watched from the start, filled while streamed.
    await source.createCollection('customers');
    // A document the source does not have, older than anything the pipeline writes (as one deleted while
    // not captured): the end marker of the incremental snapshot takes it out of the copy.
    await copy.collection<Order & { [POSITION_FIELD]: string }>('orders').insertOne({ _id: 10 * ORDERS, v: -1, pad: 'only in the copy', [POSITION_FIELD]: formatPosition({ t: 0, i: 0 }, 0) });
    const run = startRun(config.file);
    const writers: Writer[] = [];
    try {
      await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
      await insertOrders(customers, CUSTOMERS);
      writers.push(new Writer(orders, ORDERS), new Writer(customers, CUSTOMERS));
      const requestStart = performance.now();
      const request = await snapshotCli(config, ['orders', 'nope']);
      const snapshotSeconds = (performance.now() - requestStart) / 1000;
      const [ordersRounds, customersRounds] = await Promise.all(writers.map(async (writer) => (await writer.stop()).length));
      assert.equal(request.code, 0, request.output);
      assert.equal(request.result?.status, 'finished', request.output);

      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      await stopRun(run);

      // No document of the chunks hides a newer change of it, and every document arrives.
      const changes = await plainChanges(config.pipeline);
      const consumed = lastEventPerKey(changes);
      for (const collection of ['orders', 'customers']) {
        assertSameRows(consumed.get(`${database}.${collection}`), await consumedState(source, collection), `the plain consumer holds ${collection}`);
      }
      assert.equal(opCounts(changes, `${database}.customers`).r, undefined, 'no r event of customers');
      const reads = snapshotReads(changes, `${database}.orders`);
      assert.ok([...reads.values()].every((count) => count === 1), 'without a crash no document is read twice');

      // The request's notifications, in the documented order (docs/notifications.md).
      const { id } = request.result.request;
      const onTopic = await notificationsOf(config, id);
      assert.deepEqual(request.notifications, onTopic, 'cdc snapshot printed the records of the notifications topic');
      const snapshotted = onTopic.find((notification) => notification.type === 'incremental-table-snapshotted');
      assert.ok(snapshotted?.type === 'incremental-table-snapshotted');
      const refused = { table: 'nope', reason: `source ${SOURCE} does not capture nope` };
      assert.deepEqual(onTopic.map(comparable), [
        { type: 'incremental-requested', id, tables: ['orders', 'nope'], source: SOURCE },
        { type: 'incremental-accepted', id, tables: ['orders'], refused: [refused], source: SOURCE },
        { type: 'incremental-table-snapshotted', id, table: 'orders', rows: reads.size, chunks: snapshotted.chunks, durationMs: 'number', source: SOURCE },
        { type: 'incremental-finished', id, tables: ['orders'], source: SOURCE },
      ]);
      assert.ok(snapshotted.chunks >= ORDERS / CHUNK, `${snapshotted.chunks} chunks of ${CHUNK} for ${ORDERS} documents and more`);
      assert.deepEqual(request.result, { status: 'finished', request: request.result.request, tables: ['orders'], refused: [refused] });

      t.diagnostic(
        `incremental snapshot of ${ORDERS} documents in ${snapshotSeconds.toFixed(1)} s (${snapshotted.chunks} chunks of ${CHUNK}, ${reads.size} r events, ` +
          `${Math.round(reads.size / snapshotSeconds)} documents/s) under ${ordersRounds} writer rounds on orders and ${customersRounds} on customers; whole test ${seconds(startedAt)}`,
      );
    } finally {
      await cleanUp(...writers.map((writer) => () => writer.stop()));
    }
  });
});

test('a collection added to collections.include is snapshotted incrementally on restart, and only it: cdc status shows it captured since then, verify equal', { timeout: 300_000 }, async (t: TestContext) => {
  const CUSTOMERS = 2_000;
  const INVOICES = 4_000;
  const CHUNK = 1_000;
  await withPipeline('added', { chunkSize: CHUNK, collections: ['customers'] }, async ({ config, source, database }) => {
    const startedAt = performance.now();
    const customers = source.collection<Order>('customers');
    const invoices = source.collection<Order>('invoices');
    await insertOrders(customers, CUSTOMERS);
    await insertOrders(invoices, INVOICES);
    // Both collections change before, during and after the restart; invoices' changes before it are not captured.
    const writers = [new Writer(customers, CUSTOMERS), new Writer(invoices, INVOICES)];
    try {
      const first = startRun(config.file);
      await first.waitForLog('the initial snapshot of customers done', (line) => line.msg === 'streaming');
      await stopRun(first);
      const before = await plainChanges(config.pipeline);

      config.rewrite((options) => ({ ...options, source: { ...options.source, collections: ['customers', 'invoices'] } }));
      const restartedAt = Date.now();
      const restart = performance.now();
      const second = startRun(config.file);
      const finished = await second.waitForLog('invoices snapshotted incrementally', (line) => line.msg === 'notification: incremental-finished');
      const snapshotted = seconds(restart);
      const shown = (await statusCli(config)).sources.find(({ name }) => name === SOURCE)!;
      const [customersRounds, invoicesRounds] = await Promise.all(writers.map(async (writer) => (await writer.stop()).length));

      assert.deepEqual(shown.incremental, [], 'no incremental snapshot left');
      assert.deepEqual(shown.captured?.map(({ table }) => table), ['customers', 'invoices']);
      const since = Object.fromEntries(shown.captured.map(({ table, since: at }) => [table, Date.parse(at)]));
      assert.ok(since.customers! < restartedAt, `customers captured since the first start: ${JSON.stringify(shown.captured)}`);
      assert.ok(since.invoices! >= restartedAt, `invoices captured since the restart: ${JSON.stringify(shown.captured)}`);

      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      await stopRun(second);

      const changes = await plainChanges(config.pipeline);
      assert.equal(opCounts(changes, `${database}.customers`).r, opCounts(before, `${database}.customers`).r, 'no new r event of customers');
      assert.equal(opCounts(before, `${database}.invoices`).r, undefined, 'no r event of invoices before the restart');
      const reads = snapshotReads(changes, `${database}.invoices`);
      assert.ok([...reads.values()].every((count) => count === 1), 'without a crash no document is read twice');
      const consumed = lastEventPerKey(changes);
      for (const collection of ['customers', 'invoices']) {
        assertSameRows(consumed.get(`${database}.${collection}`), await consumedState(source, collection), `the plain consumer holds ${collection}`);
      }

      const id = finished.id as string;
      assert.match(id, /^added:\d+$/);
      const notifications = await notificationsOf(config, id);
      const table = notifications.find((notification) => notification.type === 'incremental-table-snapshotted');
      assert.ok(table?.type === 'incremental-table-snapshotted');
      assert.deepEqual(notifications.map(comparable), [
        { type: 'incremental-requested', id, tables: ['invoices'], source: SOURCE },
        { type: 'incremental-accepted', id, tables: ['invoices'], refused: [], source: SOURCE },
        { type: 'incremental-table-snapshotted', id, table: 'invoices', rows: reads.size, chunks: table.chunks, durationMs: 'number', source: SOURCE },
        { type: 'incremental-finished', id, tables: ['invoices'], source: SOURCE },
      ]);
      assert.ok(table.chunks >= INVOICES / CHUNK, `${table.chunks} chunks of ${CHUNK} for ${INVOICES} documents and more`);
      t.diagnostic(
        `include widened to invoices (${INVOICES} documents and more): restarted and snapshotted in ${snapshotted} (${table.chunks} chunks of ${CHUNK}, ${reads.size} r events of it alone) ` +
          `under ${customersRounds} writer rounds on customers and ${invoicesRounds} on invoices; whole test ${seconds(startedAt)}`,
      );
    } finally {
      await cleanUp(...writers.map((writer) => () => writer.stop()));
    }
  });
});
