/**
 * Fault suite, poison input: a record on the change topic that does not decode, and a row the target
 * refuses (too long for a column the target narrowed), while `cdc run` (MariaDB → Kafka → MariaDB) runs.
 * Both land in the dead-letter topic with the reason and the position they came from, and the pipeline
 * goes on: the rows after them are applied, and once the source row is fixed the copy is equal again.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { topics } from '../../topology/topics.ts';
import { cleanUp, deadLetters, deleteTopics, env, FaultConfig, faultName, FaultSummary, killStrayRuns, metric, startRun, tail, until, untilVerified, verifyCli, type DeadLetter } from './support.ts';

const summary = new FaultSummary();

after(() => killStrayRuns());

test('an undecodable change record and a row the target refuses go to the dead-letter topic with reason and position; the pipeline goes on', { timeout: 180_000 }, async (t) => {
  const src = faultName('poison_src');
  const dst = faultName('poison_dst');
  const admin = await mysql.createConnection({ uri: env.MYSQL_URL });
  const config = new FaultConfig({
    pipeline: faultName('poison'),
    source: { type: 'mysql', url: env.MYSQL_URL, db: src, chunkSize: 1000 },
    sink: { type: 'mysql', url: `${env.MYSQL_URL}/${dst}` },
  });
  const producer = new Kafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'fault-poison', logLevel: logLevel.NOTHING }).producer();
  try {
    await admin.query(`CREATE DATABASE ${src}`);
    await admin.query(`CREATE DATABASE ${dst}`);
    await admin.query(`CREATE TABLE ${src}.people (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)`);
    await admin.query(`INSERT INTO ${src}.people SELECT seq, CONCAT('p', seq) FROM ${src}.seq_1_to_100`);
    const copied = async (id: number) => ((await admin.query(`SELECT name FROM ${dst}.people WHERE id = ?`, [id])) as unknown as [Array<{ name: string }>])[0][0]?.name;

    const run = startRun(config.file);
    await run.waitForLog('the source streams', (line) => line.msg === 'streaming');
    await until('the snapshot is in the copy', async () => (await copied(100).catch(() => undefined)) === 'p100');
    // The target narrows a column behind the pipeline's back: longer names are refused from now on.
    await admin.query(`ALTER TABLE ${dst}.people MODIFY name VARCHAR(8) NOT NULL`);

    await producer.connect();
    const [sent] = await producer.send({ topic: topics.change(config.pipeline, 's'), messages: [{ key: 'poison', value: 'not an Avro change event', partition: 0 }] });
    await admin.query(`INSERT INTO ${src}.people VALUES (1001, 'a name far too long for the target')`);
    await admin.query(`INSERT INTO ${src}.people VALUES (1002, 'fine')`);

    let letters: DeadLetter[] = [];
    await until('two records in the dead-letter topic', async () => (letters = await deadLetters(config.pipeline)).length >= 2, 60_000, 500);
    await until('the row after the refused one is applied', async () => (await copied(1002)) === 'fine');
    assert.equal(letters.length, 2, JSON.stringify(letters));
    const undecodable = letters.find((letter) => letter.stage === 'repartition');
    assert.ok(undecodable, JSON.stringify(letters));
    assert.deepEqual(
      { topic: undecodable.topic, partition: undecodable.partition, offset: undecodable.offset, value: undecodable.value?.toString() },
      { topic: topics.change(config.pipeline, 's'), partition: 0, offset: sent!.baseOffset, value: 'not an Avro change event' },
    );
    assert.ok(undecodable.reason.length > 0, 'a reason');
    const refused = letters.find((letter) => letter.stage === 'sink.copy');
    assert.ok(refused, JSON.stringify(letters));
    assert.equal(refused.topic, topics.repartition(config.pipeline));
    assert.match(refused.offset, /^\d+$/);
    assert.match(refused.reason, /too long/i);
    assert.equal(await metric(run, 'cdc_dead_letter_total'), 2);
    summary.dlqRecords += letters.length;
    summary.notes.push(`dead letters: repartition "${undecodable.reason.slice(0, 80)}" from ${undecodable.topic}/${undecodable.partition}@${undecodable.offset}; sink.copy "${refused.reason.slice(0, 80)}" from ${refused.topic}/${refused.partition}@${refused.offset}`);

    // verify shows the refused row, and nothing else; fixed at the source, it is applied and the copy is equal.
    const differs = await verifyCli(config);
    assert.equal(differs.code, 1, differs.output);
    assert.deepEqual(differs.results.flatMap((result) => result.differences), [{ key: '[1001]', kind: 'missing in target' }]);
    await admin.query(`UPDATE ${src}.people SET name = 'fixed' WHERE id = 1001`);
    const verified = await untilVerified(config, 60_000);
    assert.equal(verified.code, 0, verified.output);
    summary.verified(verified.results);
    summary.eventsWritten += 3;
    assert.ok(!run.output.includes('"msg":"pipeline failed"'), tail(run));
    assert.equal(await run.stop(), 0, tail(run));
  } finally {
    await cleanUp(
      () => producer.disconnect(),
      () => killStrayRuns(),
      () => admin.query(`DROP DATABASE IF EXISTS ${src}`),
      () => admin.query(`DROP DATABASE IF EXISTS ${dst}`),
      () => admin.end(),
      () => deleteTopics(config.pipeline),
      () => config.remove(),
    );
    summary.report(t, 'poison.it.test.ts');
  }
});
