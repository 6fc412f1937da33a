import { readDeadLetter, type DeadLetter } from './dead-letter.ts';
import { topics } from './topics.ts';
import type { PartitionOffset, Transport } from './transport.ts';

/** Which dead letters to read: all, those written at or after `since`, or the ones at `offsets` of the dead-letter topic. */
export interface DeadLetterSelection {
  /** ms since epoch. */
  since?: number;
  offsets?: readonly PartitionOffset[];
}

export function isSelected(selection: DeadLetterSelection, letter: DeadLetter): boolean {
  if (selection.since !== undefined && letter.timestamp < selection.since) return false;
  if (selection.offsets !== undefined && !selection.offsets.some(({ partition, offset }) => `${partition}:${offset}` === letter.id)) return false;
  return true;
}

/** Letters of one chunk at a time: memory stays bounded however long the dead-letter topic is. */
export const DEAD_LETTER_CHUNK = 500;

/**
 * Reads the dead-letter topic `<pipeline>.dlq` to the end it had when called and hands the letters that
 * `accept` takes to `onChunk`, in topic order, `chunkSize` at a time; the next chunk is read only once
 * `onChunk` resolved. Resolves with the number of letters read, accepted or not.
 */
export async function readDeadLetters(
  transport: Transport,
  pipeline: string,
  accept: (letter: DeadLetter) => boolean,
  onChunk: (letters: DeadLetter[]) => Promise<void>,
  chunkSize = DEAD_LETTER_CHUNK,
): Promise<number> {
  const topic = topics.deadLetter(pipeline);
  if (!(await transport.listTopics()).includes(topic)) return 0;
  let read = 0;
  let chunk: DeadLetter[] = [];
  await transport.readToEnd(topic, async (record) => {
    read++;
    const letter = readDeadLetter(record);
    if (!accept(letter)) return;
    chunk.push(letter);
    if (chunk.length < chunkSize) return;
    const full = chunk;
    chunk = [];
    await onChunk(full);
  });
  if (chunk.length > 0) await onChunk(chunk);
  return read;
}
