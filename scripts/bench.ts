/**
 * `npm run bench`: our pipeline and Debezium (Kafka Connect standalone) side by side on the local stack,
 * same machine, same tables, one run. Prints one table (scenario, ours, Debezium, ratio, peak RSS) and
 * writes it as JSON to bench-results/.
 *
 *   npm run bench -- [--scenarios snapshot,streaming,e2e,apply,mongodb] [--rows 100000] [--events 100000] [--documents 20000]
 *                    [--changes 200000] [--rate 5000] [--seconds 20]
 *
 * Scenarios (docs/benchmarks.md says what each measures and what it leaves out):
 * - snapshot: the 10-column MariaDB table into Kafka as Avro (ours: scripts/bench-mysql-source.ts; Debezium's
 *   MariaDB connector, snapshot.mode=initial);
 * - streaming: a binlog backlog of the same rows into Kafka (same script; Debezium stopped, rows inserted, resumed);
 * - e2e: MariaDB → MariaDB under inserts, updates and deletes: rows/s from a backlog, and commit → visible
 *   latency at a fixed rate (ours: scripts/bench-streaming-e2e.ts; Debezium's MariaDB connector and JDBC sink
 *   in one worker; one load and one procedure for both, scripts/bench/e2e.ts);
 * - apply: snapshot events of the 10-column table from an 8-partition topic into an empty MariaDB table, the
 *   same rows on both sides (ours: scripts/bench/apply-wide.ts, our source filling our repartition topic;
 *   Debezium's JDBC sink on a topic its MariaDB connector filled);
 * - mongodb: snapshot and change-stream inserts into Kafka (ours: scripts/bench-mongodb-source.ts --kafka).
 * The full sizes are `--rows 1000000 --events 1000000`; the defaults finish in minutes.
 */
import { parseArgs } from 'node:util';
import { stackEnv } from './stack/env.ts';
import { debeziumApply, debeziumE2e, debeziumSnapshot, debeziumStreaming } from './bench/debezium/scenarios.ts';
import { buildScripts } from './bench/child.ts';
import { oursApply, oursE2e, oursMongo, oursMySql } from './bench/ours.ts';
import { printTable, writeJson, type Figure, type ScenarioResult } from './bench/report.ts';
import { positiveOption } from './bench/options.ts';

const SCENARIOS = ['snapshot', 'streaming', 'e2e', 'apply', 'mongodb'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    rows: { type: 'string', default: '100000' },
    events: { type: 'string', default: '100000' },
    // The MongoDB test server rereads its whole oplog per getMore: its rates fall as the oplog grows.
    documents: { type: 'string', default: '20000' },
    // End to end: the backlog's row changes, and the fixed rate (rows/s) and duration (s) of the latency run.
    changes: { type: 'string', default: '200000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
  },
});
const chosen = new Set(values.scenarios.split(',').map((name) => name.trim()));
for (const name of chosen) {
  if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--scenarios: unknown scenario ${name}, expected some of ${SCENARIOS.join(',')}`);
}
const wants = (scenario: Scenario) => chosen.has(scenario);
const rows = positiveOption('rows', values.rows);
const events = positiveOption('events', values.events);
const documents = positiveOption('documents', values.documents);
const e2eLoad = { changes: positiveOption('changes', values.changes), rate: positiveOption('rate', values.rate), seconds: positiveOption('seconds', values.seconds) };
const env = stackEnv();
const results: ScenarioResult[] = [];
buildScripts();

/**
 * Debezium's figure, or why there is none: a failed Debezium run (a worker that does not start, a connector
 * that fails) is reported in the table rather than losing the figures already measured.
 */
async function debezium(scenario: string, run: () => Promise<Figure>): Promise<Pick<ScenarioResult, 'debezium' | 'notRun'>> {
  try {
    return { debezium: await run() };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`Debezium ${scenario} failed: ${reason}`);
    return { notRun: `failed: ${reason}` };
  }
}

if (wants('snapshot') || wants('streaming')) {
  // One run of the script measures both; a scenario not chosen is not reported.
  const ours = await oursMySql(rows);
  if (wants('snapshot')) {
    results.push({
      scenario: 'snapshot (MariaDB → Kafka, Avro)',
      what: `${rows} rows of a 10-column table, rows/s from start to the last row durable in Kafka`,
      ours: ours.snapshot,
      ...(await debezium('snapshot', () => debeziumSnapshot(env, rows))),
    });
  }
  if (wants('streaming')) {
    results.push({
      scenario: 'streaming (binlog backlog → Kafka)',
      what: `${rows} inserted rows read from the binlog by a restarted (ours) / resumed (Debezium) source, rows/s until all are in Kafka`,
      ours: ours.streaming,
      ...(await debezium('streaming', () => debeziumStreaming(env, rows))),
    });
  }
}
if (wants('e2e')) {
  results.push({
    scenario: 'e2e (MariaDB → MariaDB)',
    what:
      `a backlog of about ${e2eLoad.changes} row changes (100-row inserts, 1-row updates, 5% deletes) from resumption until the target holds the source's rows, rows/s; ` +
      `latency (ms, commit → visible in the target) at ${e2eLoad.rate} rows/s asked for ${e2eLoad.seconds} s; ours: repartition at 8 partitions, ` +
      `Debezium: MariaDB connector and JDBC sink (8 tasks, 8-partition topic) in one worker`,
    ours: await oursE2e(e2eLoad),
    ...(await debezium('e2e', () => debeziumE2e(env, e2eLoad))),
  });
}
if (wants('apply')) {
  results.push({
    scenario: 'apply (8 partitions → MariaDB)',
    what:
      `${events} snapshot events of the 10-column table, the same rows on both sides, from an 8-partition topic into an empty pre-created MariaDB table, ` +
      `rows/s from the sink's start until the table holds them all; ours: our source's repartition topic, Debezium (JDBC sink, 8 tasks, upsert): its MariaDB connector's topic`,
    ours: await oursApply(events),
    ...(await debezium('apply', () => debeziumApply(env, events))),
  });
}
if (wants('mongodb')) {
  const ours = await oursMongo(documents);
  const notRun = 'the issue compares MongoDB on our side only';
  results.push({ scenario: 'MongoDB snapshot (→ Kafka)', what: `${documents} documents, docs/s after the startup`, ours: ours.snapshot, notRun });
  results.push({ scenario: 'MongoDB streaming (→ Kafka)', what: `${documents} inserts from the change stream, events/s after the startup`, ours: ours.streaming, notRun });
}

console.log();
printTable(results);
console.log(`JSON: ${writeJson(results, { scenarios: [...chosen], rows, events, documents, ...e2eLoad })}`);
