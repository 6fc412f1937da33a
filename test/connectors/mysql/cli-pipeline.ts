/**
 * A MariaDB → Kafka → MariaDB pipeline run by `cdc run` in child processes (test/cli/support/cli.ts), so
 * tests can SIGKILL it; a writer that keeps changing the source while it runs; and the wait for the copy
 * to equal the source, decided by `cdc verify`'s comparison (cli/verify.ts).
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { loadConfig } from '../../../cli/config.ts';
import type { PipelineConfig } from '../../../cli/config-schema.ts';
import { formatComparisons, isEqual, verifyPipeline, type TableComparison } from '../../../cli/verify.ts';
import { stackEnv } from '../../support/stack-env.ts';
import { BackgroundRun, writeConfig } from '../../cli/support/cli.ts';

export const SOURCE = 's';

export interface MySqlPipelineOptions {
  pipeline: string;
  /** The source database: every table of it is captured. */
  db: string;
  /** The sink's target database URL (mysql://…/database), unless `sinks` says otherwise. */
  targetUrl?: string;
  chunkSize: number;
  /** The `kafka:` section as YAML flow text; by default the stack's plaintext brokers. */
  kafka?: string;
  /** The `metrics:` section as YAML flow text; by default any free port. */
  metrics?: string;
  /** The `operators:` section's entries, as YAML lines (`  - { name: ..., module: ./x.mjs }`), modules beside the config file. */
  operators?: string;
  /** Entries of `sinks:` as YAML flow text, one each; by default one mysql sink `copy` into `targetUrl`. */
  sinks?: string[];
}

/** Writes the pipeline's config file; `remove()` deletes it. */
export function mysqlPipelineConfig(options: MySqlPipelineOptions): { file: string; config: PipelineConfig; remove(): void } {
  const env = stackEnv();
  const brokers = env.KAFKA_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
  const file = writeConfig(`pipeline: ${options.pipeline}
kafka: ${options.kafka ?? `{ brokers: [${brokers}] }`}
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: ${SOURCE}, type: mysql, url: '${env.MYSQL_URL}', include: ['${options.db}.*'], chunkSize: ${options.chunkSize} }
repartition: { partitions: 4 }
sinks:
${(options.sinks ?? [`{ name: copy, type: mysql, url: '${options.targetUrl}' }`]).map((sink) => `  - ${sink}`).join('\n')}
metrics: ${options.metrics ?? '{ port: 0 }'}
${options.operators === undefined ? '' : `operators:\n${options.operators}`}`);
  return { file, config: loadConfig(file), remove: () => rmSync(dirname(file), { recursive: true, force: true }) };
}

/** `cdc run --config file` in a child process (JSON log lines on stdout); `bin`: another `cdc` than this checkout's. */
export function runPipeline(file: string, bin?: string): BackgroundRun {
  return new BackgroundRun(['--config', file], {}, bin);
}

/** A Prometheus counter of a running `cdc run`, read from the /metrics address it logged. */
export async function counterOf(run: BackgroundRun, name: string, labels: Record<string, string>): Promise<number> {
  const { url } = await run.waitForLog('the metrics address', (line) => line.msg === 'metrics listening');
  const text = await (await fetch(String(url))).text();
  const selector = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(',');
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${selector}}`));
  if (line === undefined) throw new Error(`no ${name}{${selector}} in ${String(url)}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Until stopped, rounds of: insert a new row, update an existing one, every tenth round delete one, every
 * twentieth move one to a new key (a primary-key change), with a short pause so the pipeline keeps up.
 * The table is `(id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(32) NOT NULL)` with ids [1, existing];
 * new rows take ids from `firstNewId` on (a second writer on the same table starts past the first's).
 */
export class SourceWriter {
  private stopped = false;
  private rounds = 0;
  private readonly done: Promise<void>;

  constructor(
    private readonly connection: Connection,
    /** The quoted `db`.`table`. */
    private readonly table: string,
    private readonly existing: number,
    private readonly firstNewId = existing + 1,
  ) {
    this.done = this.run();
  }

  /** Stops after the current round; resolves with the number of rounds written. */
  async stop(): Promise<number> {
    this.stopped = true;
    await this.done;
    return this.rounds;
  }

  private async run(): Promise<void> {
    const { connection, table, existing, firstNewId } = this;
    // Spread over the whole key range: rows in chunks already read and in chunks still to come.
    const anyRow = (round: number, stride: number) => 1 + ((round * stride) % existing);
    for (let round = 0; !this.stopped; round++) {
      await connection.query(`INSERT INTO ${table} VALUES (?, 0, ?)`, [firstNewId + round, `new ${round}`]);
      await connection.query(`UPDATE ${table} SET v = v + 1 WHERE id = ?`, [anyRow(round, 7919)]);
      if (round % 10 === 9) await connection.query(`DELETE FROM ${table} WHERE id = ?`, [anyRow(round, 104_729)]);
      if (round % 20 === 19) await connection.query(`UPDATE ${table} SET id = id + ? WHERE id = ?`, [2 * existing, anyRow(round, 15_485_863)]);
      this.rounds = round + 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Resolves once `cdc verify`'s comparison finds every table of the source equal in the sink's target. It
 * compares only when `mayBeEqual` (cheap: row counts) says so, as a full comparison reads every row. The
 * deadline only turns a hang into a failure that shows the last comparison.
 */
export async function untilCopyEquals(config: PipelineConfig, mayBeEqual: () => Promise<boolean>, deadlineMs = 180_000): Promise<TableComparison[]> {
  const giveUp = Date.now() + deadlineMs;
  for (;;) {
    const compare = await mayBeEqual();
    if (compare || Date.now() > giveUp) {
      const results = await verifyPipeline(config);
      if (isEqual(results)) return results;
      if (Date.now() > giveUp) throw new Error(`the copy never equalled the source:\n${formatComparisons(results)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
