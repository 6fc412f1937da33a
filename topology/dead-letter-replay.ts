import type { ChangeEvent } from './change-event.ts';
import { deadLetterAgain, type DeadLetter } from './dead-letter.ts';
import { isSelected, readDeadLetters, type DeadLetterSelection } from './dead-letter-reader.ts';
import { ConfigError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';
import type { PipelineMetrics } from './metrics.ts';
import { OperatorStage, type NamedOperator, type RefusedEvent } from './operator-stage.ts';
import { withRetry } from './retry.ts';
import type { SinkConnector, SinkRecord } from './sink.ts';
import type { DeadLetterRoute } from './topology.ts';
import { topics } from './topics.ts';
import type { OutgoingRecord, Transport } from './transport.ts';

export interface DeadLetterReplayOptions {
  transport: Transport;
  /** The topology's operators and sinks (Topology.deadLetterRoute()), with the cause of the refusals fixed. */
  route: DeadLetterRoute;
  selection: DeadLetterSelection;
  /** Only this sink: its own dead letters, and those refused before the sinks, into it alone. */
  sink?: string;
  /** Counts the letters that fail again in cdc_dead_letter_total, by their new stage. */
  metrics?: PipelineMetrics;
  log?: Logger;
  chunkSize?: number;
}

export interface DeadLetterReplaySummary {
  /** Letters replayed. */
  letters: number;
  /** Records a sink applied (a letter refused before the sinks counts once per sink that takes its table). */
  applied: number;
  /** Records the position rule left out: the target holds their row at their position or a newer one. */
  skipped: number;
  /** Letters written to the dead-letter topic again, with their new stage and reason. */
  failed: number;
  /** Letters no sink took: their operators filter them out, or no sink (of `sink`) takes their table. */
  dropped: number;
  /** Letters whose stage is no part of this topology (a sink since removed): left as they are. */
  unroutable: number;
}

/** Where a dead letter enters the topology again: the stage that refused it. */
type Entry = { stage: 'source' } | { stage: 'repartition' } | { stage: 'sink'; sink: string };

/** `source:operator X`, `repartition[:operator X]`, `sink.<name>[:operator X]` → the stage; undefined for anything else. */
export function entryOf(stage: string): Entry | undefined {
  const where = stage.split(':', 1)[0]!;
  if (where === 'source' || where === 'repartition') return { stage: where };
  if (where.startsWith('sink.') && where.length > 'sink.'.length) return { stage: 'sink', sink: where.slice('sink.'.length) };
  return undefined;
}

function stageName(entry: Entry): string {
  return entry.stage === 'sink' ? `sink.${entry.sink}` : entry.stage;
}

/**
 * Applies dead letters again, once their cause is fixed, as the topology would have: a letter a sink
 * refused goes to that sink; one refused before the sinks (undecodable at repartition, or refused by an
 * operator) runs through the operators from the stage that refused it on, then into every sink that takes
 * its table. The sinks' idempotent apply decides by position, so a letter older than the row its target
 * holds now stays out (counted as skipped), and replaying twice changes nothing the first time did not.
 * What fails again goes to the dead-letter topic with its new stage and reason, and names the letter it
 * replays (`cdc.dlq.replay-of`); a letter that such a later copy replays is left to that copy, unless
 * `selection.offsets` names it. Operators that throw refuse the letter, whatever their policy.
 */
export async function replayDeadLetters(options: DeadLetterReplayOptions): Promise<DeadLetterReplaySummary> {
  const { transport, route, selection } = options;
  const log = options.log ?? silentLogger;
  const sinks = route.sinks.filter((sink) => options.sink === undefined || sink.connector.name === options.sink);
  if (sinks.length === 0) {
    throw new ConfigError(`there is no sink named ${options.sink} (there are: ${route.sinks.map((s) => s.connector.name).join(', ') || 'none'})`);
  }
  const replaced = await replacedLetters(transport, route.pipeline, selection);
  const summary: DeadLetterReplaySummary = { letters: 0, applied: 0, skipped: 0, failed: 0, dropped: 0, unroutable: 0 };
  const stages = {
    source: new OperatorStage(refusing(route.sourceOperators)),
    repartition: new OperatorStage(refusing(route.repartitionOperators)),
    sinks: new Map(sinks.map((sink) => [sink.connector.name, new OperatorStage(refusing(sink.operators))])),
  };
  for (const sink of sinks) await sink.connector.start();
  const producer = await transport.producer();
  try {
    const accept = (letter: DeadLetter) => {
      if (!isSelected(selection, letter) || (selection.offsets === undefined && replaced.has(letter.id))) return false;
      const entry = entryOf(letter.stage);
      return options.sink === undefined || entry?.stage !== 'sink' || entry.sink === options.sink;
    };
    await readDeadLetters(
      transport,
      route.pipeline,
      accept,
      async (letters) => {
        summary.letters += letters.length;
        const again: OutgoingRecord[] = [];
        const failAgain = (letter: DeadLetter, stage: string, reason: string) => {
          const record = deadLetterAgain(route.pipeline, letter, stage, reason);
          again.push(record);
          options.metrics?.deadLettered(stage, [record]);
          log.warn({ deadLetter: letter.id, stage, reason }, 'dead letter failed again');
        };
        const batches = new Map<SinkConnector, SinkRecord[]>();
        const letterOf = new Map<SinkRecord, DeadLetter>();
        const decoded = await route.serde.decode(letters.map((letter) => letter.record));
        letters.forEach((letter, i) => {
          const entry = entryOf(letter.stage);
          const targets = entry?.stage === 'sink' ? sinks.filter((sink) => sink.connector.name === entry.sink) : sinks;
          if (entry === undefined || targets.length === 0) {
            summary.unroutable++;
            log.warn({ deadLetter: letter.id, stage: letter.stage }, 'dead letter of no stage of this pipeline left as it is');
            return;
          }
          const event = decoded[i]!;
          if (event instanceof Error) return failAgain(letter, stageName(entry), event.message);
          const before: Array<['source' | 'repartition', OperatorStage]> =
            entry.stage === 'source' ? [['source', stages.source], ['repartition', stages.repartition]] : entry.stage === 'repartition' ? [['repartition', stages.repartition]] : [];
          let events = [event];
          for (const [name, stage] of before) {
            const passed = passThrough(stage, events);
            if (!Array.isArray(passed)) return failAgain(letter, `${name}:operator ${passed.operator}`, passed.reason);
            events = passed;
          }
          let taken = false;
          for (const { connector } of targets) {
            const passed = passThrough(stages.sinks.get(connector.name)!, events);
            if (!Array.isArray(passed)) {
              failAgain(letter, `sink.${connector.name}:operator ${passed.operator}`, passed.reason);
              taken = true;
              continue;
            }
            for (const output of passed) {
              const { topic, partition, offset } = letter.record;
              const record: SinkRecord = { event: output, topic, partition, offset };
              letterOf.set(record, letter);
              const batch = batches.get(connector);
              if (batch) batch.push(record);
              else batches.set(connector, [record]);
              taken = true;
            }
          }
          if (!taken) summary.dropped++;
        });
        for (const [connector, records] of batches) {
          const { rejected, skipped = [] } = await withRetry(`replay ${records.length} dead letters into sink ${connector.name}`, () => connector.apply(records));
          summary.applied += records.length - rejected.length - skipped.length;
          summary.skipped += skipped.length;
          for (const { record, reason } of rejected) failAgain(letterOf.get(record)!, `sink.${connector.name}`, reason);
        }
        summary.failed += again.length;
        if (again.length > 0) await withRetry(`dead-letter ${again.length} records to ${topics.deadLetter(route.pipeline)}`, () => producer.send(again));
      },
      options.chunkSize,
    );
  } finally {
    await producer.close();
    for (const sink of sinks) await sink.connector.close();
  }
  return summary;
}

/**
 * The ids of the letters a later letter replays (they failed again: the later copy stands for them), after
 * checking that every offset `selection` names is a letter.
 */
async function replacedLetters(transport: Transport, pipeline: string, selection: DeadLetterSelection): Promise<Set<string>> {
  const replaced = new Set<string>();
  const found = new Set<string>();
  await readDeadLetters(
    transport,
    pipeline,
    (letter) => {
      if (letter.replayOf !== undefined) replaced.add(letter.replayOf);
      if (selection.offsets !== undefined && isSelected(selection, letter)) found.add(letter.id);
      return false;
    },
    async () => {},
  );
  const missing = (selection.offsets ?? []).map(({ partition, offset }) => `${partition}:${offset}`).filter((id) => !found.has(id));
  if (missing.length > 0) throw new ConfigError(`the dead-letter topic ${topics.deadLetter(pipeline)} has no record at ${missing.join(', ')}`);
  return replaced;
}

/** The operators as replay runs them: an exception refuses the letter (back to the dead-letter topic) instead of stopping. */
function refusing(operators: readonly NamedOperator[]): NamedOperator[] {
  return operators.map((op) => ({ ...op, onError: 'dead-letter' }));
}

/** The outputs of `events` through `stage`, or the first refusal. */
function passThrough(stage: OperatorStage, events: readonly ChangeEvent[]): ChangeEvent[] | RefusedEvent {
  const outputs: ChangeEvent[] = [];
  const refused: RefusedEvent[] = [];
  for (const event of events) {
    stage.feed(event, outputs, refused);
    if (refused.length > 0) return refused[0]!;
  }
  return outputs;
}
