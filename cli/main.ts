import { Command, CommanderError, Option } from 'commander';
import type { Logger } from 'pino';
import { CdcError, ConfigError } from '../topology/errors.ts';
import { SecretScrubber } from '../topology/redact.ts';
import type { StageSelection } from '../topology/topology.ts';
import type { SnapshotRequestResult, SnapshotWait } from '../topology/snapshot-request.ts';
import { run } from './commands/run.ts';
import { replay } from './commands/replay.ts';
import { formatDeadLetter, formatDeadLetterJson, formatReplaySummary, listDeadLetters, parseDeadLetterSelection, replayDeadLetterCommand } from './commands/dlq.ts';
import { formatStatus, status } from './commands/status.ts';
import { formatNotification, formatSnapshotResult, parseTimeout, snapshot } from './commands/snapshot.ts';
import { loadConfig } from './config.ts';
import type { PipelineConfig } from './config-schema.ts';
import { createLogger, oneLine } from './logger.ts';
import { buildPipeline } from './pipeline.ts';
import { loadOperators } from './operators.ts';
import { secretsOf } from './secrets.ts';
import { formatComparisons, isEqual, verifyPipeline } from './verify.ts';
import { checkReachable } from './reachability.ts';
import { verifyBars } from './progress.ts';

/** Exit codes: what a script can branch on. */
export const EXIT = { ok: 0, failed: 1, config: 2, unreachable: 3, refused: 4, unanswered: 5 } as const;

interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

/**
 * `cdc <command> --config FILE`: the whole CLI, returning the exit code. Every failure is one line on
 * stderr (`cdc: ...`), secrets scrubbed, stack traces only with --verbose:
 * 2 bad config or usage, 3 a server unreachable, 1 anything else (and `verify` finding differences);
 * `snapshot`: 4 the source refused the request, 5 no answer within the timeout.
 */
export async function main(argv: readonly string[], io: Io = process): Promise<number> {
  let scrubber = new SecretScrubber([]);
  let verbose = argv.includes('--verbose');
  const context = {
    load(file: string): PipelineConfig {
      const config = loadConfig(file);
      scrubber = new SecretScrubber(secretsOf(config));
      return config;
    },
    logger(config: PipelineConfig, destination: Io['stdout'], level?: 'warn'): Logger {
      return createLogger({ secrets: secretsOf(config), verbose, destination, ...(level ? { level } : {}) });
    },
    print(text: string) {
      io.stdout.write(`${scrubber.scrub(text)}\n`);
    },
    complain(text: string) {
      io.stderr.write(`cdc: ${scrubber.scrub(text)}\n`);
    },
  };
  let exitCode: number = EXIT.ok;
  const program = buildProgram(context, (code) => (exitCode = code), io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    verbose ||= program.opts().verbose === true;
    const text = verbose && error instanceof Error ? (error.stack ?? error.message) : oneLine(error);
    io.stderr.write(`cdc: ${scrubber.scrub(text)}\n`);
    return exitCodeOf(error);
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof ConfigError) return EXIT.config;
  if (error instanceof CdcError && error.code === 'CONFIG_INVALID') return EXIT.config;
  if (error instanceof CdcError && error.code === 'UNREACHABLE') return EXIT.unreachable;
  return EXIT.failed;
}

interface Context {
  load(file: string): PipelineConfig;
  /** `level` raises the floor: commands that print a result log only warnings (to stderr). */
  logger(config: PipelineConfig, destination: Io['stdout'], level?: 'warn'): Logger;
  print(text: string): void;
  /** A command's outcome that is not a success, as one `cdc: ...` line on stderr, as failures are. */
  complain(text: string): void;
}

function buildProgram(context: Context, setExitCode: (code: number) => void, io: Io): Command {
  const program = new Command('cdc')
    .description('Change data capture from MySQL/MariaDB and MongoDB through Kafka into MySQL/MariaDB, PostgreSQL and MongoDB')
    .option('--verbose', 'debug logs and stack traces')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError(false);
  const config = () => new Option('-c, --config <file>', 'the pipeline config (YAML; ${ENV} references are replaced)').makeOptionMandatory();

  program
    .command('run')
    .description('run the pipeline (all stages, or --only sources|sinks) until SIGTERM/SIGINT')
    .addOption(config())
    .addOption(new Option('--only <stages>', 'run only these stages: sources (source and repartition stages) or sinks').choices(['sources', 'sinks']))
    .option('--metrics-port <port>', 'serve /metrics, /health and the web console on this port (0: any free port); overrides metrics.port', parsePort)
    .action(async (options: { config: string; only?: StageSelection; metricsPort?: number }) => {
      const pipelineConfig = context.load(options.config);
      const operators = await loadOperators(pipelineConfig, options.config);
      const log = context.logger(pipelineConfig, io.stdout);
      try {
        const runOptions = { only: options.only ?? 'all', tty: io.stderr.isTTY === true, operators, ...(options.metricsPort === undefined ? {} : { metricsPort: options.metricsPort }) };
        await run(pipelineConfig, runOptions, log);
      } catch (error) {
        log.error({ err: error, code: (error as CdcError).code }, 'pipeline failed');
        throw error;
      }
    });

  program
    .command('status')
    .description('per source its token and phase, per consumer group its lag per partition')
    .addOption(config())
    .option('--json', 'print JSON, for scripts')
    .action(async (options: { config: string; json?: boolean }) => {
      const pipelineConfig = context.load(options.config);
      const result = await status(pipelineConfig, context.logger(pipelineConfig, io.stderr, 'warn'));
      context.print(options.json ? JSON.stringify(result, null, 2) : formatStatus(result));
    });

  program
    .command('snapshot')
    .description("ask a source to snapshot tables incrementally while it streams (docs/incremental-snapshots.md); prints the source's notifications about the request")
    .addOption(config())
    .requiredOption('--source <name>', 'the source that captures the tables')
    .option('--table <db.table>', 'a table to snapshot, as the source names it (a MongoDB source: the collection); repeatable', (name: string, names: string[]) => [...names, name], [] as string[])
    .addOption(new Option('--wait <answer>', 'until the source accepted (or refused) the request, finished it, or none: only until it is sent').choices(['accepted', 'finished', 'none']).default('accepted'))
    .option('--timeout <seconds>', 'how long to wait (default: 60 with --wait accepted, no limit with --wait finished)', parseTimeout)
    .option('--json', 'one JSON object per notification and line, then the result, for scripts')
    .action(async (options: { config: string; source: string; table: string[]; wait: SnapshotWait; timeout?: number; json?: boolean }) => {
      const pipelineConfig = context.load(options.config);
      const command = { source: options.source, tables: options.table, wait: options.wait, ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }) };
      const result = await snapshot(pipelineConfig, command, context.logger(pipelineConfig, io.stderr, 'warn'), (notification) =>
        context.print(options.json ? JSON.stringify(notification) : formatNotification(notification)),
      );
      const exitCode = snapshotExitCode(result);
      const line = formatSnapshotResult(pipelineConfig.pipeline, result);
      if (options.json) context.print(JSON.stringify(result));
      if (exitCode !== EXIT.ok) context.complain(line);
      else if (!options.json) context.print(line);
      setExitCode(exitCode);
    });

  program
    .command('replay')
    .description("reset a sink's consumer group so its next run applies again from a point")
    .addOption(config())
    .requiredOption('--sink <name>', 'the sink to replay')
    .requiredOption('--from <where>', 'earliest, an ISO time, or partition:offset,... of the repartition topic')
    .option('--force', 'the group has members that are already stopped: wait for their sessions to expire instead of refusing')
    .action(async (options: { config: string; sink: string; from: string; force?: boolean }) => {
      const pipelineConfig = context.load(options.config);
      const offsets = await replay(pipelineConfig, { sink: options.sink, from: options.from, force: options.force === true }, context.logger(pipelineConfig, io.stderr, 'warn'));
      context.print(
        `sink ${options.sink} will apply again from ${offsets.map((o) => `${o.partition}:${o.offset}`).join(',') || '(no partitions)'}; ` +
          `start it again with: cdc run --config ${options.config}`,
      );
    });

  const dlq = program.command('dlq').description('the dead-letter topic <pipeline>.dlq: the records a stage refused');
  dlq
    .command('list')
    .description('show each dead letter: stage, reason, source table and key, origin topic/partition/offset, time, the decoded event')
    .addOption(config())
    .option('--since <time>', 'only dead letters written at or after this ISO time')
    .option('--json', 'one JSON object per dead letter and line, for scripts')
    .action(async (options: { config: string; since?: string; json?: boolean }) => {
      const selection = parseDeadLetterSelection({ ...(options.since === undefined ? {} : { since: options.since }) });
      const pipelineConfig = context.load(options.config);
      const shown = await listDeadLetters(pipelineConfig, selection, context.logger(pipelineConfig, io.stderr, 'warn'), (letters) => {
        for (const letter of letters) context.print(options.json ? formatDeadLetterJson(letter) : `${formatDeadLetter(letter)}\n`);
      });
      if (!options.json) context.print(`${shown} dead letter${shown === 1 ? '' : 's'} in ${pipelineConfig.pipeline}.dlq${selection.since === undefined ? '' : ` since ${options.since}`}`);
    });
  dlq
    .command('replay')
    .description('apply dead letters again through their sinks once the cause is fixed; exit 1 when some fail again (they go back to the dead-letter topic)')
    .addOption(config())
    .option('--since <time>', 'only dead letters written at or after this ISO time')
    .option('--offsets <p:o,...>', 'only these dead letters (partition:offset of the dead-letter topic, as dlq list shows them)')
    .option('--sink <name>', "only this sink: its own dead letters, and those refused before the sinks, into it alone")
    .action(async (options: { config: string; since?: string; offsets?: string; sink?: string }) => {
      const selection = parseDeadLetterSelection(options);
      const pipelineConfig = context.load(options.config);
      const operators = await loadOperators(pipelineConfig, options.config);
      const summary = await replayDeadLetterCommand(
        pipelineConfig,
        { selection, operators, ...(options.sink === undefined ? {} : { sink: options.sink }) },
        context.logger(pipelineConfig, io.stderr, 'warn'),
      );
      context.print(formatReplaySummary(summary));
      setExitCode(summary.failed > 0 ? EXIT.failed : EXIT.ok);
    });

  program
    .command('verify')
    .description('compare every mapped table between source and sink, value by value in key-range chunks; exit 0 only when equal')
    .addOption(config())
    .option('--table <db.table>', 'only this source table (repeatable)', (name: string, names: string[]) => [...names, name], [] as string[])
    .option('--chunk-size <rows>', 'source rows per chunk (one key range read from both sides: memory and round trips)', parseChunkSize, 10_000)
    .option('--json', 'print JSON, for scripts')
    .action(async (options: { config: string; table: string[]; chunkSize: number; json?: boolean }) => {
      const pipelineConfig = context.load(options.config);
      await checkReachable(pipelineConfig, { sources: true, sinks: true });
      const bars = io.stderr.isTTY ? verifyBars() : undefined;
      let results;
      try {
        results = await verifyPipeline(pipelineConfig, { chunkSize: options.chunkSize, ...(options.table.length > 0 ? { tables: options.table } : {}), ...(bars ? { progress: bars } : {}) });
      } finally {
        bars?.stop();
      }
      context.print(options.json ? JSON.stringify(results, null, 2) : formatComparisons(results));
      setExitCode(isEqual(results) ? EXIT.ok : EXIT.failed);
    });

  program
    .command('describe')
    .description('print the topology: stages, topics, partitions, consumer groups')
    .addOption(config())
    .option('--json', 'print JSON, for scripts')
    .action(async (options: { config: string; json?: boolean }) => {
      const pipelineConfig = context.load(options.config);
      const description = buildPipeline(pipelineConfig, { operators: await loadOperators(pipelineConfig, options.config) }).topology.describe();
      context.print(options.json ? JSON.stringify({ pipeline: description.pipeline, exactlyOnce: description.exactlyOnce, stages: description.stages }, null, 2) : description.toString());
    });
  return program;
}

function snapshotExitCode(result: SnapshotRequestResult): number {
  if (result.status === 'refused') return EXIT.refused;
  if (result.status === 'timed-out') return EXIT.unanswered;
  return EXIT.ok;
}

function parseChunkSize(text: string): number {
  const rows = Number(text);
  if (!Number.isInteger(rows) || rows < 1 || rows > 1_000_000) throw new ConfigError(`--chunk-size: expected a number of rows 1..1000000, got ${text}`);
  return rows;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--metrics-port: expected a port number 0..65535, got ${text}`);
  return port;
}
