/**
 * The token protocol with the real MySQL source on the real Kafka: the token is durable before the
 * snapshot reads a row, a token the broker refuses starts no snapshot, capture begins with the first
 * token (RunningTopology.capturing), and a restart resumes from the token's binlog position with its GTID
 * position carried on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MySqlSource } from '../../../connectors/mysql/source.ts';
import { readResume } from '../../../connectors/mysql/position.ts';
import { TokenCommitError } from '../../../topology/errors.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import { topics } from '../../../topology/topics.ts';
import { tablesKey } from '../../../topology/token-store.ts';
import { withAdmin } from '../../topology/fixtures/kafka-kit.ts';
import { withKafkaPipeline } from './kafka-pipeline.ts';
import { itemsUntil, randomServerId, withSourceDatabase } from './source-fixture.ts';

const ROWS = 100;

async function createItems(admin: { query(sql: string): Promise<unknown> }, db: string): Promise<void> {
  await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, name VARCHAR(20))`);
  await admin.query(`INSERT INTO \`${db}\`.items SELECT seq, CONCAT('item ', seq) FROM \`${db}\`.seq_1_to_${ROWS}`);
}

test('the token is in the token topic before the first r event: the broker appended it earlier', { timeout: 120_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await withKafkaPipeline('token-first', async (pipeline) => {
      await createItems(admin, db);
      const changeTopic = topics.change(pipeline.id, 'test');
      // Created before the topology does (it takes existing topics with the partitions it needs), so that
      // the broker, not the producer, stamps every record with the time it appended it.
      const appendTime = { name: 'message.timestamp.type', value: 'LogAppendTime' };
      await withAdmin((kafka) =>
        kafka.createTopics({
          waitForLeaders: true,
          topics: [
            { topic: topics.tokens(pipeline.id), numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, appendTime] },
            { topic: changeTopic, numPartitions: 1, configEntries: [appendTime] },
          ],
        }),
      );
      await pipeline.start(makeSource({ chunkSize: 30 }));
      await pipeline.untilToken('the snapshot is finished', (token) => token.phase === 'streaming');

      const [first] = await pipeline.tokens();
      const [firstRecord] = await pipeline.read(changeTopic);
      const events = await pipeline.changes('test');
      // The first token of the token topic is the one written before the snapshot: no progress yet, and
      // the position every `r` event carries (the one streaming starts from). Only its table maps precede it.
      assert.equal(first?.record.offset, '1');
      assert.deepEqual((await pipeline.read(topics.tokens(pipeline.id))).slice(0, 1).map((record) => record.key?.toString()), [tablesKey(pipeline.id, 'test')]);
      assert.equal(first.phase, 'snapshot');
      assert.deepEqual(first.snapshot, {});
      assert.equal(events.length, ROWS);
      assert.ok(events.every((event) => event.op === 'r' && event.source.position === first.position));
      // The marker that closes the table's snapshot goes to the repartition topic only, never the change topic.
      await pipeline.until('the snapshot-end marker is repartitioned', async () => (await pipeline.repartitioned()).some((event) => event.op === 't'));
      const markers = (await pipeline.repartitioned()).filter((event) => event.op === 't');
      assert.deepEqual(markers.map((event) => [event.source.position, event.source.snapshot]), [[first.position, true]], 'one snapshot-end marker, at the snapshot position');
      // Both topics are on one broker clock, and with LogAppendTime a record's timestamp is the moment
      // the broker appended it. The token's being strictly earlier than the first `r` event's means the
      // token was in the log before that event existed there. (Equal stamps would prove nothing, so the
      // comparison is strict; the runner awaits the token's ack, then reads information_schema, selects
      // the first chunk and registers its schemas before it writes a row, far more than a millisecond.)
      assert.ok(
        first.record.timestamp < firstRecord!.timestamp,
        `token appended at ${first.record.timestamp}, first r event at ${firstRecord!.timestamp}`,
      );
    });
  });
});

/** The real source, noting which steps of the token protocol the runner asked of it. */
class ObservedSource extends MySqlSource {
  readonly steps: string[] = [];

  override openLog(): ReturnType<MySqlSource['openLog']> {
    this.steps.push('openLog');
    return super.openLog();
  }

  override snapshot(...args: Parameters<MySqlSource['snapshot']>): ReturnType<MySqlSource['snapshot']> {
    this.steps.push('snapshot');
    return super.snapshot(...args);
  }

  override stream(...args: Parameters<MySqlSource['stream']>): ReturnType<MySqlSource['stream']> {
    this.steps.push('stream');
    return super.stream(...args);
  }
}

for (const exactlyOnce of [true, false]) {
  test(`a token the broker refuses starts no snapshot: TokenCommitError, and nothing read or written (exactly-once: ${exactlyOnce})`, { timeout: 60_000 }, async () => {
    await withSourceDatabase(async ({ db, url, admin }) => {
      await withKafkaPipeline('token-refused', async (pipeline) => {
        await createItems(admin, db);
        // A token topic that takes no record batch over 128 bytes: the broker refuses every token
        // (MESSAGE_TOO_LARGE), but not the marker that aborts the token's transaction (about 80 bytes).
        await withAdmin((kafka) =>
          kafka.createTopics({
            waitForLeaders: true,
            topics: [{ topic: topics.tokens(pipeline.id), numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'max.message.bytes', value: '128' }] }],
          }),
        );
        const source = new ObservedSource({ name: 'test', url, serverId: randomServerId(), include: [`${db}.*`] });
        try {
          const running = await pipeline.start(source, { exactlyOnce });
          await assert.rejects(running.done, (error: unknown) => {
            assert.ok(error instanceof TokenCommitError, String(error));
            assert.match(error.message, /source test.*larger than the max message size/);
            return true;
          });
        } finally {
          await source.close();
        }
        assert.deepEqual(source.steps, ['openLog'], 'the source opened its log and was asked for nothing more');
        assert.deepEqual(await pipeline.read(topics.change(pipeline.id, 'test')), []);
        assert.deepEqual(await pipeline.read(topics.tokens(pipeline.id)), []);
      });
    });
  });
}

test('snapshot: never: a row inserted as soon as capturing() resolves is in the change topic', { timeout: 120_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await withKafkaPipeline('capturing', async (pipeline) => {
      await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
      const running = await pipeline.start(makeSource(), { snapshot: 'never' });
      await running.capturing('test');
      assert.equal((await pipeline.tokens()).at(-1)?.phase, 'streaming', 'the position at the binlog\'s end is durable');
      await admin.query(`INSERT INTO \`${db}\`.t VALUES (1)`);
      await pipeline.until('the insert is in the change topic', async () => (await pipeline.changes('test')).some((event) => event.op === 'c' && event.after?.id === 1));
    });
  });
});

test('a restart resumes from the token: the next transaction, nothing twice, nothing lost, and the GTID position goes on from the token', { timeout: 120_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await withKafkaPipeline('gtid-resume', async (pipeline) => {
      await admin.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
      /** Inserts a row in a transaction of its own; its MariaDB GTID (domain-server-seq). */
      const insert = async (id: number) => {
        await admin.query(`INSERT INTO \`${db}\`.t VALUES (?)`, [id]);
        const [[{ gtid }]] = (await admin.query('SELECT @@last_gtid AS gtid')) as unknown as [[{ gtid: string }]];
        return gtid;
      };
      const gtidOf = (token: { resume: Record<string, unknown> }) => readResume(token.resume).gtid;
      const domainOf = (gtid: string) => gtid.split('-')[0];

      const first = await pipeline.start(makeSource());
      await pipeline.untilToken('the source streams', (token) => token.phase === 'streaming');
      const beforeStop = await insert(1);
      const stopped = await pipeline.untilToken('the first insert is covered by a token', (token) => gtidOf(token) === beforeStop);
      await first.stop();

      // While no process runs the source. The stored token's GTID position is MariaDB's: one entry per domain.
      assert.match(gtidOf(stopped), /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/);
      const whileStopped = await insert(2);
      const afterRestart = await insert(3);
      await pipeline.start(makeSource());
      const resumed = await pipeline.untilToken('the inserts after the restart are covered by a token', (token) => gtidOf(token).includes(afterRestart));
      // The position after the last transaction: its own GTID for its domain, the stored entries of other domains.
      const others = gtidOf(stopped).split(',').filter((entry) => domainOf(entry) !== domainOf(afterRestart));
      assert.deepEqual(gtidOf(resumed).split(',').sort(), [afterRestart, ...others].sort());
      assert.ok(resumed.position > stopped.position, 'the token moved on from the stored one');

      const inserts = (await pipeline.changes('test')).map((event) => ({ op: event.op, id: event.key.id, txId: event.source.txId }));
      assert.deepEqual(inserts, [
        // The snapshot of the empty table wrote nothing to the change topic (its end marker is repartitioned).
        { op: 'c', id: 1, txId: beforeStop },
        { op: 'c', id: 2, txId: whileStopped },
        { op: 'c', id: 3, txId: afterRestart },
      ]);

      // A stored position with a domain that no transaction since has touched keeps that domain's entry.
      const withOtherDomain = { position: stopped.position, resume: { ...stopped.resume, gtid: [gtidOf(stopped), '99-1-5'].join(',') } };
      let changed = false;
      const items = await itemsUntil(makeSource().stream(withOtherDomain, new FlowControl()), (item) => {
        changed ||= item.kind === 'change';
        return changed && item.kind === 'commit';
      });
      const commit = items.at(-1);
      assert.ok(commit?.kind === 'commit');
      assert.deepEqual(readResume(commit.position.resume).gtid.split(',').sort(), [whileStopped, '99-1-5', ...others].sort());
    });
  });
});
