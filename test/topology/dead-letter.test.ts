import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTERS_LOGGED_PER_BATCH, deadLetter, logDeadLetters } from '../../topology/dead-letter.ts';

test('a batch that dead-letters many records logs the first ones one line each, then one line counting the rest', () => {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const log = { error() {}, info() {}, debug() {}, warn: (fields: object, message: string) => lines.push({ fields: fields as Record<string, unknown>, message }) };
  const entries = Array.from({ length: DEAD_LETTERS_LOGGED_PER_BATCH + 5 }, (_, i) => ({
    record: deadLetter('p', 'sink.s', { topic: 'p.repartition', partition: 3, offset: String(i), key: null, value: null, headers: {}, timestamp: 0 }, i % 2 ? 'too long' : 'out of range'),
    row: { op: 'c' as const, key: { id: BigInt(i), tag: Buffer.from('ab', 'hex') }, source: { db: 'shop', table: 'items' } },
  }));
  logDeadLetters(log, entries);
  assert.equal(lines.length, DEAD_LETTERS_LOGGED_PER_BATCH + 1);
  assert.deepEqual(lines[1], {
    message: 'record dead-lettered',
    fields: { stage: 'sink.s', table: 'shop.items', key: '{"id":"1","tag":"0xab"}', reason: 'too long', from: 'p.repartition/3@1' },
  });
  assert.deepEqual(lines.at(-1), { message: 'more records of the batch dead-lettered', fields: { stage: 'sink.s', count: 5, reasons: ['out of range', 'too long'] } });
});
