import type { ChangeEvent } from '../../topology/change-event.ts';
import type { DeadLetter } from '../../topology/dead-letter.ts';
import { isSelected, readDeadLetters, type DeadLetterSelection } from '../../topology/dead-letter-reader.ts';
import { replayDeadLetters, type DeadLetterReplaySummary } from '../../topology/dead-letter-replay.ts';
import { ConfigError } from '../../topology/errors.ts';
import { eventJsonReplacer } from '../../topology/json-serde.ts';
import type { Logger } from '../../topology/log.ts';
import type { PipelineConfig } from '../config-schema.ts';
import type { LoadedOperator } from '../operators.ts';
import { badOption, OFFSETS_EXAMPLE, parseIsoTime, parseOffsets, requireConfigured, TIME_EXAMPLE } from '../option-values.ts';
import { buildPipeline } from '../pipeline.ts';
import { checkReachable } from '../reachability.ts';

/** `--since <ISO time>` or `--offsets p:o,...` (of the dead-letter topic, as `cdc dlq list` shows them); neither: every letter. */
export function parseDeadLetterSelection(options: { since?: string; offsets?: string }): DeadLetterSelection {
  if (options.since !== undefined && options.offsets !== undefined) throw new ConfigError('--since and --offsets: choose dead letters by one of them, not both');
  if (options.since !== undefined) {
    const since = parseIsoTime(options.since);
    if (since === undefined) throw badOption('--since', options.since, TIME_EXAMPLE);
    return { since };
  }
  if (options.offsets !== undefined) {
    const offsets = parseOffsets(options.offsets);
    if (offsets === undefined) throw badOption('--offsets', options.offsets, `${OFFSETS_EXAMPLE} of the dead-letter topic, as cdc dlq list shows them`);
    return { offsets };
  }
  return {};
}

/** One dead letter as `cdc dlq list` shows it. */
export interface DeadLetterView {
  /** `partition:offset` in the dead-letter topic: what `cdc dlq replay --offsets` takes. */
  id: string;
  time: string;
  stage: string;
  reason: string;
  /** Where the refused record was read from; null for an event a source-stage operator refused. */
  origin: { topic: string; partition: number; offset: string } | null;
  replayOf: string | null;
  /** `db.table` and key of the decoded event; null when it does not decode. */
  table: string | null;
  key: ChangeEvent['key'] | null;
  /** The decoded event without its table schema, or null with `decodeError`. */
  event: Omit<ChangeEvent, 'schema'> | null;
  decodeError?: string;
}

/** `cdc dlq list`: the selected dead letters, decoded with the pipeline's serde, a chunk at a time to `show`. */
export async function listDeadLetters(config: PipelineConfig, selection: DeadLetterSelection, log: Logger, show: (letters: DeadLetterView[]) => void): Promise<number> {
  await checkReachable(config, { kafka: true, registry: true });
  const { topology, transport } = buildPipeline(config, { log });
  const { serde } = topology.deadLetterRoute();
  let shown = 0;
  try {
    await readDeadLetters(
      transport,
      config.pipeline,
      (letter) => isSelected(selection, letter),
      async (letters) => {
        const decoded = await serde.decode(letters.map((letter) => letter.record));
        show(letters.map((letter, i) => view(letter, decoded[i]!)));
        shown += letters.length;
      },
    );
  } finally {
    await transport.close();
  }
  return shown;
}

function view(letter: DeadLetter, decoded: ChangeEvent | Error): DeadLetterView {
  const where = {
    id: letter.id,
    time: new Date(letter.timestamp).toISOString(),
    stage: letter.stage,
    reason: letter.reason,
    origin: letter.origin ?? null,
    replayOf: letter.replayOf ?? null,
  };
  if (decoded instanceof Error) return { ...where, table: null, key: null, event: null, decodeError: decoded.message };
  const { schema: _schema, ...event } = decoded;
  return { ...where, table: `${event.source.db}.${event.source.table}`, key: event.key, event };
}

const json = (value: unknown) => JSON.stringify(value, eventJsonReplacer);

/** A dead letter as a few lines of text: where it is, what refused it and why, where it came from, the event. */
export function formatDeadLetter(letter: DeadLetterView): string {
  const lines = [`${letter.id}  ${letter.time}  ${letter.stage}  ${letter.table ?? '(not decoded)'}  key ${letter.key ? json(letter.key) : '-'}`, `  reason  ${letter.reason}`];
  if (letter.origin) lines.push(`  from    ${letter.origin.topic} partition ${letter.origin.partition} offset ${letter.origin.offset}`);
  if (letter.replayOf) lines.push(`  replays ${letter.replayOf} (failed again)`);
  const { event } = letter;
  if (event) {
    const images = [event.before ? ` before ${json(event.before)}` : '', event.after ? ` after ${json(event.after)}` : ''].join('');
    lines.push(`  event   ${event.op} at ${event.source.position}${images}`);
  } else {
    lines.push(`  event   not decoded: ${letter.decodeError}`);
  }
  return lines.join('\n');
}

export function formatDeadLetterJson(letter: DeadLetterView): string {
  return json(letter);
}

export interface DeadLetterReplayCommand {
  selection: DeadLetterSelection;
  sink?: string;
  operators: readonly LoadedOperator[];
}

/** `cdc dlq replay`: the selected dead letters applied again through the sinks (topology/dead-letter-replay.ts). */
export async function replayDeadLetterCommand(config: PipelineConfig, options: DeadLetterReplayCommand, log: Logger): Promise<DeadLetterReplaySummary> {
  if (options.sink !== undefined) requireConfigured('sink', config.sinks, options.sink);
  await checkReachable(config, { kafka: true, registry: true, sinks: true });
  const { topology, transport } = buildPipeline(config, { log, operators: options.operators });
  try {
    return await replayDeadLetters({
      transport,
      route: topology.deadLetterRoute(),
      selection: options.selection,
      ...(options.sink === undefined ? {} : { sink: options.sink }),
      log,
    });
  } finally {
    await transport.close();
  }
}

/** The one-line summary of a replay. */
export function formatReplaySummary(summary: DeadLetterReplaySummary): string {
  const extra = [
    ...(summary.dropped > 0 ? [`${summary.dropped} taken by no sink`] : []),
    ...(summary.unroutable > 0 ? [`${summary.unroutable} of no stage of this pipeline left as they are`] : []),
  ];
  return (
    `replayed ${summary.letters} dead letter${summary.letters === 1 ? '' : 's'}: applied ${summary.applied}, skipped as older ${summary.skipped}, failed again ${summary.failed}` +
    (extra.length > 0 ? `; ${extra.join(', ')}` : '')
  );
}
