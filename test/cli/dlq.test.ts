/** How `cdc dlq` chooses dead letters: --since and --offsets parsed, and letters matched against them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeadLetterSelection } from '../../cli/commands/dlq.ts';
import { readDeadLetter } from '../../topology/dead-letter.ts';
import { isSelected } from '../../topology/dead-letter-reader.ts';
import { ConfigError } from '../../topology/errors.ts';

test('--since takes an ISO time, --offsets partition:offset pairs of the dead-letter topic, neither every letter', () => {
  assert.deepEqual(parseDeadLetterSelection({}), {});
  assert.deepEqual(parseDeadLetterSelection({ since: '2026-11-22T10:00:00Z' }), { since: Date.UTC(2026, 10, 22, 10) });
  assert.deepEqual(parseDeadLetterSelection({ since: '2026-11-22' }), { since: Date.UTC(2026, 10, 22) });
  assert.deepEqual(parseDeadLetterSelection({ offsets: '0:12' }), { offsets: [{ partition: 0, offset: '12' }] });
  // Offsets are compared as numbers: 007 is the letter dlq list shows as 0:7.
  assert.deepEqual(parseDeadLetterSelection({ offsets: '0:007,0:98,1:3' }), {
    offsets: [
      { partition: 0, offset: '7' },
      { partition: 0, offset: '98' },
      { partition: 1, offset: '3' },
    ],
  });
});

test('a bad --since or --offsets, or both at once, is one ConfigError naming the option', () => {
  const cases: Array<[{ since?: string; offsets?: string }, RegExp]> = [
    [{ since: 'yesterday' }, /^--since: "yesterday" is not an ISO time \(2026-11-22T10:00:00Z\)$/],
    [{ since: '2026-13-45' }, /^--since: "2026-13-45" is not an ISO time/],
    [{ since: '12' }, /^--since: "12" is not an ISO time/],
    [{ offsets: '12' }, /^--offsets: "12" is not partition:offset pairs \(0:120,1:98\) of the dead-letter topic, as cdc dlq list shows them$/],
    [{ offsets: '0:1,' }, /^--offsets: "0:1," is not partition:offset pairs/],
    [{ offsets: '0:-1' }, /^--offsets: "0:-1" is not partition:offset pairs/],
    [{ offsets: ' 0:1' }, /^--offsets: " 0:1" is not partition:offset pairs/],
    [{ since: '2026-11-22', offsets: '0:1' }, /^--since and --offsets: choose dead letters by one of them, not both$/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => parseDeadLetterSelection(options), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(options));
  }
});

test('a selection takes the letters written at or after --since, or exactly those at --offsets', () => {
  const letter = (offset: string, timestamp: number) =>
    readDeadLetter({ topic: 'shop.dlq', partition: 0, offset, key: null, value: null, timestamp, headers: { 'cdc.dlq.stage': 'sink.copy', 'cdc.dlq.reason': 'refused' } });
  const letters = [letter('0', 1_000), letter('1', 2_000), letter('2', 3_000)];
  const chosen = (selection: ReturnType<typeof parseDeadLetterSelection>) => letters.filter((l) => isSelected(selection, l)).map((l) => l.id);
  assert.deepEqual(chosen({}), ['0:0', '0:1', '0:2']);
  assert.deepEqual(chosen({ since: 2_000 }), ['0:1', '0:2']);
  assert.deepEqual(chosen({ since: 3_001 }), []);
  assert.deepEqual(chosen(parseDeadLetterSelection({ offsets: '0:2,0:0,1:1' })), ['0:0', '0:2']);
});
