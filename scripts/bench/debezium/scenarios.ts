/**
 * The scenarios through Debezium, each in a Connect worker of its own (so its peak memory is its own), on
 * the tables and rows our side uses: the 10-column table of scripts/bench-mysql-source.ts, and for e2e the
 * load of scripts/bench/change-load.ts. Times run from the connector's creation (or resumption) over REST
 * until its topic or target holds every row: the JVM's start is left out, the connector's own start
 * (connections, schema reads) is in, as our pipeline's is.
 */
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { connectionOptions } from '../../../connectors/mysql/connection.ts';
import { sleep } from '../../stack/process.ts';
import type { StackEnv } from '../../stack/env.ts';
import { BenchTopics } from '../kafka-topics.ts';
import { runE2e, type E2eLoad } from '../e2e.ts';
import type { Figure } from '../report.ts';
import { REPARTITIONS, until } from '../pipeline.ts';
import { APPLY_POLL_MS, countWideRows, createWideTable, loadWideRows, WIDE_TABLE } from '../wide-table.ts';
import { jdbcSinkConfig } from './jdbc-sink.ts';
import { changeTopic, heartbeatTopic, mariaDbSourceConfig } from './mariadb-source.ts';
import { ConnectWorker } from './worker.ts';
import { EVENTS_TABLE } from '../change-load.ts';

const POLL_MS = 50;

/** Polls until `topic` holds `count` records, failing fast when the connector fails; the seconds from `since`. */
async function untilRecords(worker: ConnectWorker, topics: BenchTopics, connector: string, topic: string, count: number, since: number): Promise<number> {
  for (let polls = 0; (await topics.records(topic)) < count; polls++) {
    if (polls % 20 === 0) await worker.assertHealthy(connector);
    await sleep(POLL_MS);
  }
  return (performance.now() - since) / 1000;
}

/** A scratch database and topic prefix, a worker, and cleanup of all three whatever happens. */
async function withScratch<T>(env: StackEnv, use: (scratch: { db: string; prefix: string; admin: mysql.Connection; worker: ConnectWorker; topics: BenchTopics }) => Promise<T>): Promise<T> {
  const run = randomUUID().slice(0, 8);
  const db = `bench_dbz_${run}`;
  const prefix = `bench_dbz_${run}`;
  const admin = await mysql.createConnection(connectionOptions(env.MYSQL_URL));
  const topics = await BenchTopics.connect(env);
  let worker: ConnectWorker | undefined;
  try {
    worker = await ConnectWorker.start(run, env);
    return await use({ db, prefix, admin, worker, topics });
  } finally {
    await worker?.stop();
    await topics.deleteAll(prefix);
    await topics.deleteAll(heartbeatTopic(prefix));
    // The JDBC sink's consumer group is Connect's `connect-<connector>`.
    await topics.deleteAll(`connect-${prefix}`);
    await topics.close();
    await admin.query('DROP DATABASE IF EXISTS ??', [db]);
    await admin.end();
  }
}

/** Initial snapshot of `rows` rows into Kafka as Avro. */
export function debeziumSnapshot(env: StackEnv, rows: number): Promise<Figure> {
  return withScratch(env, async ({ db, prefix, admin, worker, topics }) => {
    await createWideTable(admin, db);
    await loadWideRows(admin, db, 1, rows);
    const connector = `${prefix}-snapshot`;
    const started = performance.now();
    await worker.createConnector(connector, mariaDbSourceConfig(env, { prefix, db, snapshotMode: 'initial' }));
    const topic = changeTopic(prefix, db, WIDE_TABLE);
    const seconds = await untilRecords(worker, topics, connector, topic, rows, started);
    const peakRssMb = worker.peakRssMb();
    await topics.assertConfluentAvro(topic);
    return { count: rows, seconds, perSecond: Math.round(rows / seconds), peakRssMb };
  });
}

/**
 * Streaming a binlog backlog into Kafka, as bench-mysql-source.ts measures ours: the connector starts on
 * the empty table (no snapshot), stores an offset (its heartbeats), is stopped; `rows` rows are inserted;
 * it is resumed and timed until their events are in the topic.
 */
export function debeziumStreaming(env: StackEnv, rows: number): Promise<Figure> {
  return withScratch(env, async ({ db, prefix, admin, worker, topics }) => {
    await createWideTable(admin, db);
    const connector = `${prefix}-streaming`;
    await worker.createConnector(connector, mariaDbSourceConfig(env, { prefix, db, snapshotMode: 'no_data' }));
    await untilRecords(worker, topics, connector, heartbeatTopic(prefix), 1, performance.now());
    // A heartbeat's offset is stored at the next flush (offset.flush.interval.ms=1000); stopping flushes too.
    await sleep(1500);
    await worker.setConnectorState(connector, 'stop', 'STOPPED');
    await loadWideRows(admin, db, 1, rows);
    const started = performance.now();
    await worker.setConnectorState(connector, 'resume', 'RUNNING');
    const seconds = await untilRecords(worker, topics, connector, changeTopic(prefix, db, WIDE_TABLE), rows, started);
    return { count: rows, seconds, perSecond: Math.round(rows / seconds), peakRssMb: worker.peakRssMb() };
  });
}

/** Partitions of the change topic a JDBC sink reads and its tasks: one task per partition, as our sink runs at 8 repartitions. */
const SINK_PARTITIONS = REPARTITIONS;
/** How often a scenario asks Connect whether its connectors failed, while it polls a database faster. */
const HEALTH_CHECK_MS = 1000;

/**
 * The JDBC sink applying `rows` snapshot events of the 10-column table from earliest into an empty,
 * pre-created MariaDB table, as scripts/bench/apply-wide.ts times ours on the same rows. The topic is
 * filled first by the source connector in a worker of its own, so the sink's worker's memory is the sink's.
 * Timed from the sink's creation until the target table holds every row.
 */
export function debeziumApply(env: StackEnv, rows: number): Promise<Figure> {
  return withScratch(env, async ({ db, prefix, admin, worker, topics }) => {
    await createWideTable(admin, db);
    await loadWideRows(admin, db, 1, rows);
    const source = `${prefix}-source`;
    const topic = changeTopic(prefix, db, WIDE_TABLE);
    await worker.createConnector(source, mariaDbSourceConfig(env, { prefix, db, snapshotMode: 'initial', partitions: SINK_PARTITIONS }));
    await untilRecords(worker, topics, source, topic, rows, performance.now());
    await worker.stop();

    const target = `${db}_target`;
    // Created here rather than by the sink's schema evolution: the sink looks the table up without naming
    // the database, finds the source's `wide` and never creates its own.
    await createWideTable(admin, target);
    const sinkWorker = await ConnectWorker.start(`${prefix}-sink`, env);
    try {
      const sink = `${prefix}-jdbc`;
      const started = performance.now();
      await sinkWorker.createConnector(sink, jdbcSinkConfig(env, { topic, db: target, tasks: SINK_PARTITIONS }));
      await until('the target to hold every row', () => sinkWorker.assertHealthy(sink), async () => (await countWideRows(admin, target)) >= rows, APPLY_POLL_MS);
      const seconds = (performance.now() - started) / 1000;
      return { count: rows, seconds, perSecond: Math.round(rows / seconds), peakRssMb: sinkWorker.peakRssMb() };
    } finally {
      await sinkWorker.stop();
      await admin.query('DROP DATABASE IF EXISTS ??', [target]);
    }
  });
}

/**
 * End to end, as scripts/bench/e2e.ts measures ours: the MariaDB connector (no snapshot) and the JDBC sink
 * (8 tasks on an 8-partition change topic) in one worker, from the source database into a target one.
 * Paused and resumed with Connect's stop/resume of both connectors (offsets flushed on stop).
 */
export function debeziumE2e(env: StackEnv, load: E2eLoad): Promise<Figure> {
  return withScratch(env, async ({ db, prefix, worker, topics }) => {
    const target = `${db}_target`;
    const source = `${prefix}-source`;
    const sink = `${prefix}-jdbc`;
    const topic = changeTopic(prefix, db, EVENTS_TABLE);
    const connectors = [sink, source];
    let checkedAt = 0;
    const result = await runE2e(env, load, { source: db, target }, {
      async start() {
        // Created beforehand: a sink subscribed to a missing topic may see it only at its next metadata refresh.
        await topics.createTopic(topic, SINK_PARTITIONS);
        await worker.createConnector(source, mariaDbSourceConfig(env, { prefix, db, snapshotMode: 'no_data', partitions: SINK_PARTITIONS }));
        // Without a snapshot the connector starts at the binlog's end when it connects: rows written before are not its.
        await untilRecords(worker, topics, source, heartbeatTopic(prefix), 1, performance.now());
        await worker.createConnector(sink, jdbcSinkConfig(env, { topic, db: target, tasks: SINK_PARTITIONS }));
      },
      async pause() {
        for (const name of connectors) await worker.setConnectorState(name, 'stop', 'STOPPED');
      },
      async resume() {
        for (const name of connectors) await worker.setConnectorState(name, 'resume', 'RUNNING');
      },
      async alive() {
        if (performance.now() - checkedAt < HEALTH_CHECK_MS) return;
        checkedAt = performance.now();
        for (const name of connectors) await worker.assertHealthy(name);
      },
      // The worker stops (its binlog client with it) before the databases are dropped.
      stop: () => worker.stop(),
    });
    return { count: result.written, seconds: result.sustainedSeconds, perSecond: Math.round(result.written / result.sustainedSeconds), peakRssMb: worker.peakRssMb(), latency: result.latency };
  });
}
