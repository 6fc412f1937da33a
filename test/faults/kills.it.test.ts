/**
 * Fault suite, kills: `cdc run` SIGKILLed again and again under a write load, at the first token commit,
 * during the snapshot, while streaming (tokens are committed at every source transaction, in the Kafka
 * transaction of its events) and while the sink applies a batch, and restarted each time; MariaDB →
 * Kafka → MariaDB and MongoDB → Kafka → MongoDB. Afterwards `cdc verify` exits 0 and every change the
 * writer made is in the change topic. (The exact moment between a batch's send and its token's commit
 * is killed by test/topology/kafka.it.test.ts; this file kills wherever the running process happens to be.)
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import type { BackgroundRun } from '../cli/support/cli.ts';
import {
  cleanUp,
  describeMongoChange,
  describeMySqlChange,
  env,
  FaultConfig,
  faultName,
  FaultSummary,
  KeySet,
  killStrayRuns,
  killThrough,
  LoadWriter,
  missingFromChangeTopic,
  deadLetters,
  deleteTopics,
  tail,
  untilVerified,
  type KillPhase,
} from './support.ts';

const summary = new FaultSummary();
const PLAN: KillPhase[] = ['first token', 'snapshot', 'snapshot', 'snapshot', 'sink batch', 'sink batch', 'streaming', 'streaming', 'streaming', 'sink batch', 'streaming'];

after(() => killStrayRuns());

describe('both pipelines at once', { concurrency: 2 }, () => {
  test('MariaDB → Kafka → MariaDB: SIGKILLs in every phase under writes, restarted each time; verify equal, no change missing from the change topic', { timeout: 300_000 }, async () => {
    const ROWS = 30_000;
    const src = faultName('kill_src');
    const dst = faultName('kill_dst');
    const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
    const writerConnection = await mysql.createConnection({ uri: env.MYSQL_URL });
    const config = new FaultConfig({
      pipeline: faultName('kill_mysql'),
      source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: 1000 },
      sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
    });
    let writer: LoadWriter | undefined;
    let last: BackgroundRun | undefined;
    try {
      await admin.query(`CREATE DATABASE ${src}`);
      await admin.query(`CREATE DATABASE ${dst}`);
      await admin.query(`CREATE TABLE ${src}.items (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(64) NOT NULL)`);
      await admin.query(`INSERT INTO ${src}.items SELECT seq, 0, CONCAT('row ', seq) FROM ${src}.seq_1_to_${ROWS}`);

      // One source transaction per round: an insert and an update, every 4th a delete, every 12th a key change.
      const keys = new KeySet(ROWS, 7);
      const values = new Map<number, number>();
      let next = ROWS;
      const round = async (n: number) => {
        const changes: string[] = [];
        await writerConnection.beginTransaction();
        const id = ++next;
        // Every value written is new (2n + 1, 2n + 2): an update to the value a row has is no change at all.
        await writerConnection.query(`INSERT INTO ${src}.items VALUES (?, ?, ?)`, [id, 2 * n + 1, `new ${n}`]);
        changes.push(`c ${id} ${2 * n + 1}`);
        keys.add(id);
        values.set(id, 2 * n + 1);
        const updated = keys.pick();
        await writerConnection.query(`UPDATE ${src}.items SET v = ? WHERE id = ?`, [2 * n + 2, updated]);
        changes.push(`u ${updated} ${2 * n + 2}`);
        values.set(updated, 2 * n + 2);
        if (n % 4 === 3) {
          const deleted = keys.pick();
          await writerConnection.query(`DELETE FROM ${src}.items WHERE id = ?`, [deleted]);
          changes.push(`d ${deleted}`);
          keys.remove(deleted);
        }
        if (n % 12 === 11) {
          const moved = keys.pick();
          const to = ++next;
          await writerConnection.query(`UPDATE ${src}.items SET id = ? WHERE id = ?`, [to, moved]);
          changes.push(`d ${moved}`, `c ${to} ${values.get(moved) ?? 0}`);
          keys.remove(moved);
          keys.add(to);
          values.set(to, values.get(moved) ?? 0);
        }
        await writerConnection.commit();
        return changes;
      };

      last = await killThrough(config.file, PLAN, summary, (run) => {
        // The load starts once the first token is committed: every write is after the position it holds.
        if (writer === undefined) void run.waitForLog('the first token', (line) => line.msg === 'token committed').then(() => (writer ??= new LoadWriter(round)), () => {});
      });
      assert.ok(writer, 'the writer started');
      const written = await writer.stop();
      summary.eventsWritten += written.length;
      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      summary.verified(verified.results);
      assert.equal(await last.stop(), 0, tail(last));

      const { missing, extra, events } = await missingFromChangeTopic(config.pipeline, written, describeMySqlChange);
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} changes missing from the change topic`);
      assert.deepEqual(extra.slice(0, 20), [], `${extra.length} changes in the topic the writer never made`);
      const letters = await deadLetters(config.pipeline);
      summary.dlqRecords += letters.length;
      assert.deepEqual(letters, [], 'no dead letters: every record decoded and applied');
      summary.notes.push(`mysql: ${written.length} changes written, ${events} distinct streamed events in the change topic`);
    } finally {
      await cleanUp(
        () => writer?.stop(),
        () => killStrayRuns(config.file),
        () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
        () => admin.query(`DROP DATABASE IF EXISTS ${dst}`),
        () => admin.end(),
        () => writerConnection.end(),
        () => deleteTopics(config.pipeline),
        () => config.remove(),
      );
    }
  });

  test('MongoDB → Kafka → MongoDB: SIGKILLs in every phase under writes, restarted each time; verify equal, no change missing from the change topic', { timeout: 300_000 }, async () => {
    const DOCS = 20_000;
    const src = faultName('kill_msrc');
    const dst = faultName('kill_mdst');
    const client = new MongoClient(env.MONGODB_URL);
    await client.connect();
    const orders = client.db(src).collection<{ _id: number; v: number; pad: string }>('orders');
    const config = new FaultConfig({
      pipeline: faultName('kill_mongo'),
      source: { type: 'mongodb', url: env.MONGODB_URL, database: src, chunkSize: 1000 },
      sink: { type: 'mongodb', url: env.MONGODB_URL, database: dst },
    });
    let writer: LoadWriter | undefined;
    let last: BackgroundRun | undefined;
    try {
      for (let start = 1; start <= DOCS; start += 10_000) {
        await orders.insertMany(Array.from({ length: Math.min(10_000, DOCS - start + 1) }, (_, i) => ({ _id: start + i, v: 0, pad: `doc ${start + i}` })));
      }
      const keys = new KeySet(DOCS, 11);
      let next = DOCS;
      const round = async (n: number) => {
        const id = ++next;
        // Every value written is new: an update to the value a document has changes nothing.
        await orders.insertOne({ _id: id, v: 2 * n + 1, pad: `new ${n}` });
        keys.add(id);
        const updated = keys.pick();
        await orders.updateOne({ _id: updated }, { $set: { v: 2 * n + 2 } });
        const changes = [`c ${id}`, `u ${updated}`];
        if (n % 4 === 3) {
          const deleted = keys.pick();
          await orders.deleteOne({ _id: deleted });
          keys.remove(deleted);
          changes.push(`d ${deleted}`);
        }
        return changes;
      };

      last = await killThrough(config.file, PLAN, summary, (run) => {
        if (writer === undefined) void run.waitForLog('the first token', (line) => line.msg === 'token committed').then(() => (writer ??= new LoadWriter(round)), () => {});
      });
      assert.ok(writer, 'the writer started');
      const written = await writer.stop();
      summary.eventsWritten += written.length;
      const verified = await untilVerified(config);
      assert.equal(verified.code, 0, verified.output);
      summary.verified(verified.results);
      assert.equal(await last.stop(), 0, tail(last));

      const { missing: absent, extra, events } = await missingFromChangeTopic(config.pipeline, written, describeMongoChange);
      // docs/mongodb-source.md: an update whose document is gone when the source looks it up (updateLookup)
      // emits nothing, as its delete follows; any other absent change is lost.
      const deleted = new Set(written.filter((change) => change.startsWith('d ')).map((change) => change.slice(2)));
      const missing = absent.filter((change) => !(change.startsWith('u ') && deleted.has(change.slice(2))));
      assert.deepEqual(missing.slice(0, 20), [], `${missing.length} changes missing from the change topic`);
      assert.deepEqual(extra.slice(0, 20), [], `${extra.length} changes in the topic the writer never made`);
      const letters = await deadLetters(config.pipeline);
      summary.dlqRecords += letters.length;
      assert.deepEqual(letters, [], 'no dead letters: every record decoded and applied');
      summary.notes.push(`mongodb: ${written.length} changes written, ${events} distinct streamed events in the change topic; ${absent.length} updates of documents deleted before their lookup emitted nothing (updateLookup)`);
    } finally {
      await cleanUp(
        () => writer?.stop(),
        () => killStrayRuns(config.file),
        () => client.db(src).dropDatabase(),
        () => client.db(dst).dropDatabase(),
        () => client.close(),
        () => deleteTopics(config.pipeline),
        () => config.remove(),
      );
    }
  });
});

test('summary: at least 20 kills across the phases, no difference', (t) => {
  summary.report(t, 'kills.it.test.ts');
  assert.ok(summary.totalKills >= 20, `${summary.totalKills} kills`);
  for (const phase of ['first token', 'snapshot', 'streaming', 'sink batch'] as const) assert.ok((summary.kills.get(phase) ?? 0) > 0, `a kill during ${phase}`);
  assert.equal(summary.differences, 0);
});
