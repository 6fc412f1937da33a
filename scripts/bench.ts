/**
 * `npm run bench`: our pipeline and Debezium (Kafka Connect standalone) side by side on the local stack,
 * same machine, same tables, one run. Prints one table (scenario, ours, Debezium, ratio, peak RSS) and
 * writes it as JSON to bench-results/.
 *
 *   npm run bench -- [--scenarios snapshot,streaming,apply,mongodb] [--rows 100000] [--events 100000] [--documents 20000]
 *
 * Scenarios (docs/benchmarks.md says what each measures and what it leaves out):
 * - snapshot: the 10-column MariaDB table into Kafka as Avro (ours: scripts/bench-mysql-source.ts; Debezium's
 *   MariaDB connector, snapshot.mode=initial);
 * - streaming: a binlog backlog of the same rows into Kafka (same script; Debezium stopped, rows inserted, resumed);
 * - apply: events from an 8-partition topic into MariaDB (ours: scripts/bench-sinks-kafka.ts; Debezium's JDBC
 *   sink from a topic its MariaDB connector filled);
 * - mongodb: snapshot and change-stream inserts into Kafka (ours: scripts/bench-mongodb-source.ts --kafka).
 * The sizes are `--rows 1000000 --events 1000000`; the defaults finish in minutes.
 */
import { parseArgs } from 'node:util';
import { stackEnv } from './stack/env.ts';
import { debeziumApply, debeziumSnapshot, debeziumStreaming } from './bench/debezium/scenarios.ts';
import { oursApply, oursMongo, oursMySql } from './bench/ours.ts';
import { printTable, writeJson, type Figure, type ScenarioResult } from './bench/report.ts';

const SCENARIOS = ['snapshot', 'streaming', 'apply', 'mongodb'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    rows: { type: 'string', default: '100000' },
    events: { type: 'string', default: '100000' },
    // The MongoDB test server rereads its whole oplog per getMore: its rates fall as the oplog grows.
    documents: { type: 'string', default: '20000' },
  },
});
const chosen = new Set(values.scenarios.split(',').map((name) => name.trim()));
for (const name of chosen) {
  if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--scenarios: unknown scenario ${name}, expected some of ${SCENARIOS.join(',')}`);
}
const wants = (scenario: Scenario) => chosen.has(scenario);
const positive = (name: string, value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new Error(`--${name} must be a positive whole number, got ${value}`);
  return number;
};
const rows = positive('rows', values.rows);
const events = positive('events', values.events);
const documents = positive('documents', values.documents);
const env = stackEnv();
const results: ScenarioResult[] = [];

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
if (wants('apply')) {
  results.push({
    scenario: 'apply (8 partitions → MariaDB)',
    what:
      `${events} events replayed from earliest into an empty MariaDB database, rows/s; ours: mixed events (50% c, 35% u, 15% d) of a 3-column table, ` +
      `Debezium (JDBC sink, 8 tasks, upsert): the snapshot events of the 10-column table that its MariaDB connector wrote`,
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
console.log(`JSON: ${writeJson(results, { scenarios: [...chosen], rows, events, documents })}`);
