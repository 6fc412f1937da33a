import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRowKey } from '../../topology/key-encoding.ts';
import { changeEvent } from './support/fake-source.ts';
import type { Row } from '../../topology/change-event.ts';

const keyOf = (table: string, key: Row) => encodeRowKey({ ...changeEvent('c', table, 0, null, {}, '0', false), key });

test('the row key is table + typed, length-prefixed key values, byte for byte as documented', () => {
  const bytes = keyOf('t', { a: 7, b: 'é' });
  const expected = Buffer.concat([
    Buffer.from([0, 5]),
    Buffer.from('app.t'),
    Buffer.from([0x69, 0, 0, 0, 1]),
    Buffer.from('7'),
    Buffer.from([0x73, 0, 0, 0, 2]),
    Buffer.from('é'),
  ]);
  assert.deepEqual(bytes, expected);
});

test('an integer key encodes the same as number and as bigint', () => {
  assert.deepEqual(keyOf('t', { id: 42 }), keyOf('t', { id: 42n }));
});

test('keys that would collide as concatenated text stay distinct', () => {
  assert.notDeepEqual(keyOf('t', { a: 'ab', b: 'c' }), keyOf('t', { a: 'a', b: 'bc' }));
  assert.notDeepEqual(keyOf('t', { a: null }), keyOf('t', { a: '' }));
  assert.notDeepEqual(keyOf('t', { a: 1 }), keyOf('u', { a: 1 }));
  assert.notDeepEqual(keyOf('t', { a: Buffer.from('x') }), keyOf('t', { a: 'x' }));
  assert.notDeepEqual(keyOf('t', { a: true }), keyOf('t', { a: false }));
  assert.notDeepEqual(keyOf('t', { a: 1.5 }), keyOf('t', { a: '1.5' }));
});
