/**
 * `cdc verify` across systems: a MariaDB table snapshotted by the real source and applied by the real
 * PostgreSQL and MongoDB sinks, a MongoDB collection applied by the MongoDB sink, then the CLI compares;
 * and a whole `cdc run` pipeline (Kafka, Avro) from MariaDB into PostgreSQL and MongoDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import { BSON, Long, type Document, type Filter } from 'mongodb';
import { PostgresSink } from '../../connectors/postgres/sink.ts';
import { MongoSink } from '../../connectors/mongodb/sink.ts';
import { snapshotReadEvent } from '../../connectors/mongodb/change-events.ts';
import type { SinkConnector, SinkRecord } from '../../topology/sink.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';
import { FlowControl } from '../../topology/flow-control.ts';
import { snapshotRows } from '../support/snapshot-items.ts';
import { stackEnv } from '../support/stack-env.ts';
import { withSourceDatabase } from '../connectors/mysql/source-fixture.ts';
import { withKafkaPipeline } from '../connectors/mysql/kafka-pipeline.ts';
import { mysqlPipelineConfig, runPipeline, untilCopyEquals } from '../connectors/mysql/cli-pipeline.ts';
import { scratchMongo, scratchPostgres } from '../connectors/support/targets.ts';
import { cdc, shown, writeConfig } from './support/cli.ts';

/** A document whose `_id` is of any BSON type (the driver's types expect ObjectId). */
type AnyIdDocument = { _id: unknown } & Record<string, unknown>;

const BEYOND_2_53 = '9007199254740993';

/**
 * The tricky types; ids 1..120 are plain rows, so that a 50-row chunk size makes several chunks. `ubig` holds
 * 0, 2^63-1, 2^63 and 2^64-1 (MongoDB: Long, then Decimal128), `precise` DECIMAL(65,30) values that Decimal128's
 * 34 digits hold (trailing zeros beyond them included).
 */
const TRICKY_COLUMNS = `id BIGINT PRIMARY KEY, amount DECIMAL(20,4), big BIGINT, ubig BIGINT UNSIGNED, f FLOAT, at DATETIME(6),
  ts TIMESTAMP(3) NULL, t TIME(2), j JSON, data BLOB, note VARCHAR(40) CHARACTER SET utf8mb4, precise DECIMAL(65,30)`;
const TRICKY_ROWS = [
  `(${BEYOND_2_53}, -12345678901234.5678, -${BEYOND_2_53}, 9223372036854775807, 0.1, '2024-02-29 23:59:59.000001',
    '2038-01-19 03:14:07.999', '-838:59:59.00', '{"b": [1, 2.5, "x"], "a": {"ü": null}}', X'00FF10', 'héllo wörld 🙂 日本',
    12345.000000000000000000000000000000)`,
  `(${BEYOND_2_53}1, 0.0001, 0, 0, -3.5, '1000-01-01 00:00:00.500000', '1970-01-01 00:00:01.000', '12:00:00.50', '[]', X'', '', -0.000000000000000000000000000001)`,
  `(${BEYOND_2_53}2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(${BEYOND_2_53}3, NULL, NULL, 9223372036854775808, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1234.567890123456789012345678901234)`,
  `(${BEYOND_2_53}4, NULL, NULL, 18446744073709551615, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
];
/** 65 significant digits: more than MongoDB's Decimal128 holds, so the MongoDB sink dead-letters its row. */
const TOO_PRECISE = '-99999999999999999999999999999999999.999999999999999999999999999999';

function records(events: readonly ChangeEvent[]): SinkRecord[] {
  return events.map((event, offset) => ({ event, topic: 'changes', partition: 0, offset: String(offset) }));
}

async function applyAll(sink: SinkConnector, batch: SinkRecord[]): Promise<void> {
  await sink.start();
  try {
    const { rejected } = await sink.apply(batch);
    assert.deepEqual(rejected.map((r) => r.reason), []);
  } finally {
    await sink.close();
  }
}

function pipelineConfig(sources: string, sinks: string): string {
  const env = stackEnv();
  return writeConfig(`pipeline: verify-across
kafka: { brokers: ['${env.KAFKA_BROKERS.split(',')[0]}'] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
${sources}
sinks:
${sinks}
`);
}

test('verify compares MariaDB with PostgreSQL and MongoDB value by value: equal, then the changed key and column', { timeout: 120_000 }, async () => {
  const postgres = await scratchPostgres('verify');
  const mongo = await scratchMongo('verify');
  try {
    await withSourceDatabase(async ({ db, url, admin, source }) => {
      await admin.query("SET SESSION time_zone = '+00:00'");
      await admin.query(`CREATE TABLE \`${db}\`.tricky (${TRICKY_COLUMNS})`);
      await admin.query(
        `INSERT INTO \`${db}\`.tricky (id, amount, big, f, at, j, note) SELECT seq, seq / 100, seq * 1000, seq / 8, '2024-01-01 10:00:00', JSON_OBJECT('n', seq), CONCAT('row ', seq) FROM \`${db}\`.seq_1_to_120`,
      );
      await admin.query(`INSERT INTO \`${db}\`.tricky VALUES ${TRICKY_ROWS.join(', ')}`);
      const mysql = source();
      const snapshot = await firstValueFrom(mysql.snapshot(await mysql.openLog(), {}, new FlowControl()).pipe(toArray()));
      const events = snapshotRows(snapshot);
      assert.equal(events.length, 125);
      await applyAll(new PostgresSink({ name: 'pg', url: postgres.url, schema: postgres.name, manageTables: true }), records(events));
      await applyAll(new MongoSink({ name: 'mongo', url: mongo.url, database: mongo.name }), records(events));

      const config = pipelineConfig(
        `  - { name: maria, type: mysql, url: '${url}', include: ['${db}.*'] }`,
        `  - { name: pg, type: postgres, url: '${postgres.url}', schema: ${postgres.name} }
  - { name: mongo, type: mongodb, url: '${mongo.url}', database: ${mongo.name} }`,
      );
      const verify = (...args: string[]) => cdc(['verify', '--config', config, '--chunk-size', '50', ...args]);

      const equal = await verify('--json');
      assert.equal(equal.code, 0, equal.stdout + equal.stderr);
      assert.deepEqual(
        (JSON.parse(equal.stdout) as Array<Record<string, unknown>>).map(({ sink, target, sourceRows, targetRows, chunks, differingRows }) => ({ sink, target, sourceRows, targetRows, chunks, differingRows })),
        [
          { sink: 'pg', target: shown(`${postgres.name}.tricky`), sourceRows: 125, targetRows: 125, chunks: 3, differingRows: 0 },
          { sink: 'mongo', target: shown(`${mongo.name}.tricky`), sourceRows: 125, targetRows: 125, chunks: 3, differingRows: 0 },
        ],
      );

      // Behind the pipeline's back: one value in each target.
      await postgres.client.query(`UPDATE "${postgres.name}".tricky SET amount = amount + 0.0001 WHERE id = ${BEYOND_2_53}`);
      // MariaDB's JSON is LONGTEXT (information_schema says so): its text is the value, compared exactly.
      await postgres.client.query(`UPDATE "${postgres.name}".tricky SET j = '{"n":7}' WHERE id = 7`);
      await mongo.client.db(mongo.name).collection('tricky').updateOne({ _id: Long.fromString(`${BEYOND_2_53}2`) }, { $set: { note: '' } });
      const different = await verify();
      assert.equal(different.code, 1, different.stdout + different.stderr);
      const lines = different.stdout.split('\n').filter((line) => line.startsWith('  '));
      assert.deepEqual(
        lines.sort(),
        [
          `  ${db}.tricky → ${mongo.name}.tricky: key [${BEYOND_2_53}2] differs in column note`,
          `  ${db}.tricky → ${postgres.name}.tricky: key [${BEYOND_2_53}] differs in column amount`,
          `  ${db}.tricky → ${postgres.name}.tricky: key [7] differs in column j`,
        ].map(shown).sort(),
      );
      assert.match(different.stdout, /DIFFERENT \(2 rows\)/);
      assert.match(different.stdout, /DIFFERENT \(1 row\)/);

      const onlyOne = await verify('--table', `${db}.tricky`, '--table', `${db}.nope`);
      assert.equal(onlyOne.code, 2);
      assert.equal(onlyOne.stderr, `cdc: --table ${db}.nope: no source captures this table (expected db.table as the sources include it) [CONFIG_INVALID]\n`);
    });
  } finally {
    await postgres.drop();
    await mongo.drop();
  }
});

test('verify compares a MongoDB collection with the MongoDB sink, and says the SQL sinks take no MongoDB collection', { timeout: 120_000 }, async () => {
  const source = await scratchMongo('verifysrc');
  const target = await scratchMongo('verifydst');
  const postgres = await scratchPostgres('verifymongo');
  try {
    const documents: AnyIdDocument[] = [
      { _id: 1, name: 'ünïcode 🙂', price: BSON.Decimal128.fromString('19.990'), big: Long.fromString(BEYOND_2_53), tags: ['a', 'b'], nested: { at: new Date(0), none: null } },
      { _id: 'text-id', bytes: new BSON.Binary(Buffer.from([0, 255])), n: new BSON.Int32(2), d: new BSON.Double(2) },
      { _id: new BSON.ObjectId('65a1b2c3d4e5f60718293a4b'), empty: {} },
    ];
    await source.client.db(source.name).collection<AnyIdDocument>('things').insertMany(documents);
    const origin = { sourceName: 'mongo', database: source.name };
    const events = documents.map((document) => snapshotReadEvent(origin, 'things', document, '0000000001'));
    await applyAll(new MongoSink({ name: 'copy', url: target.url, database: target.name }), records(events));

    // What a SQL sink does with MongoDB events: no table schema to make a table from.
    const sql = new PostgresSink({ name: 'pg', url: postgres.url, schema: postgres.name, manageTables: true });
    await sql.start();
    await assert.rejects(sql.apply(records(events)), /target table things does not exist/);
    await sql.close();

    const config = pipelineConfig(
      `  - { name: mongo, type: mongodb, url: '${source.url}', database: ${source.name} }`,
      `  - { name: copy, type: mongodb, url: '${target.url}', database: ${target.name} }`,
    );
    const equal = await cdc(['verify', '--config', config, '--chunk-size', '2']);
    assert.equal(equal.code, 0, equal.stdout + equal.stderr);
    assert.match(equal.stdout, new RegExp(`${source.name}\\.things +copy +${target.name}\\.things +3 +3 +2 +equal`));

    await target.client.db(target.name).collection('things').updateOne({ _id: 'text-id' } as unknown as Filter<Document>, { $set: { n: 2.5 } });
    const different = await cdc(['verify', '--config', config]);
    assert.equal(different.code, 1);
    assert.match(different.stdout, new RegExp(`key "text-id" differs in column doc.n\\n`));

    const withSql = pipelineConfig(
      `  - { name: mongo, type: mongodb, url: '${source.url}', database: ${source.name} }`,
      `  - { name: pg, type: postgres, url: '${postgres.url}', schema: ${postgres.name} }`,
    );
    const refused = await cdc(['verify', '--config', withSql]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /not compared: the SQL sinks do not take MongoDB collections \(their events carry no table schema to make a table from\)/);
  } finally {
    await source.drop();
    await target.drop();
    await postgres.drop();
  }
});

test('cdc run from MariaDB into PostgreSQL and MongoDB, snapshot then streamed changes: verify finds both equal, then the changed value', { timeout: 240_000 }, async () => {
  const postgres = await scratchPostgres('verifyrun');
  const mongo = await scratchMongo('verifyrun');
  try {
    await withSourceDatabase(async ({ db, admin }) => {
      await withKafkaPipeline('verify-run', async (pipeline) => {
        await admin.query("SET SESSION time_zone = '+00:00'");
        await admin.query(`CREATE TABLE \`${db}\`.tricky (${TRICKY_COLUMNS})`);
        await admin.query(`INSERT INTO \`${db}\`.tricky VALUES ${TRICKY_ROWS.join(', ')}`);
        const { file, config, remove } = mysqlPipelineConfig({
          pipeline: pipeline.id,
          db,
          chunkSize: 100,
          sinks: [`{ name: pg, type: postgres, url: '${postgres.url}', schema: ${postgres.name} }`, `{ name: mongo, type: mongodb, url: '${mongo.url}', database: ${mongo.name} }`],
        });
        try {
          const run = runPipeline(file);
          try {
            await run.waitForLog('the snapshot finished, the source streams', (line) => line.msg === 'streaming');
            // A value the MongoDB target cannot hold: that row is dead-lettered by the MongoDB sink, which goes on with the rows after it.
            await admin.query(`INSERT INTO \`${db}\`.tricky (id, precise) VALUES (6, ${TOO_PRECISE})`);
            await admin.query(`INSERT INTO \`${db}\`.tricky (id, amount, at, note) VALUES (5, 1.5, '2024-06-30 12:00:00.250000', 'streamed ✓')`);
            await admin.query(`UPDATE \`${db}\`.tricky SET big = big - 1, j = '{"z": [true, false]}' WHERE id = ${BEYOND_2_53}`);
            await admin.query(`DELETE FROM \`${db}\`.tricky WHERE id = ${BEYOND_2_53}1`);
            const dead = await run.waitForLog('the too-precise row dead-lettered', (line) => line.msg === 'record dead-lettered');
            assert.deepEqual(
              { table: dead.table, key: dead.key, reason: dead.reason },
              { table: `${db}.tricky`, key: '{"id":"6"}', reason: `column precise: a value of 65 significant digits does not fit MongoDB's Decimal128 (34 digits); rejected rather than rounded` },
            );
            // Gone from the source, the row is absent from both targets again: verify finds them equal.
            await admin.query(`DELETE FROM \`${db}\`.tricky WHERE id = 6`);
            const results = await untilCopyEquals(config, async () => true);
            assert.deepEqual(
              results.map(({ sink, sourceRows, targetRows }) => ({ sink, sourceRows, targetRows })),
              [
                { sink: 'pg', sourceRows: 5, targetRows: 5 },
                { sink: 'mongo', sourceRows: 5, targetRows: 5 },
              ],
            );
            assert.equal(await run.stop(), 0, run.output);
          } finally {
            run.kill();
            await run.exited;
          }

          await postgres.client.query(`UPDATE "${postgres.name}".tricky SET at = '2024-06-30 12:00:00.25' WHERE id = 5`); // the same instant
          await postgres.client.query(`UPDATE "${postgres.name}".tricky SET data = '\\x00ff11' WHERE id = ${BEYOND_2_53}`);
          const different = await cdc(['verify', '--config', file, '--table', `${db}.tricky`]);
          assert.equal(different.code, 1, different.stdout + different.stderr);
          assert.deepEqual(
            different.stdout.split('\n').filter((line) => line.startsWith('  ')),
            [shown(`  ${db}.tricky → ${postgres.name}.tricky: key [${BEYOND_2_53}] differs in column data`)],
          );
        } finally {
          remove();
        }
      });
    });
  } finally {
    await postgres.drop();
    await mongo.drop();
  }
});
