import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRowKey, RowKeyWriter } from '../../topology/key-encoding.ts';
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

/** The documented bytes, built the plainest way (one Buffer per part), as the reference for RowKeyWriter. */
function documentedBytes(db: string, table: string, key: Row): Buffer {
  const name = Buffer.from(`${db}.${table}`);
  const part = (tag: string, payload: Buffer) => [Buffer.from(tag), Buffer.from([0, 0, 0, 0].map((_, i) => (payload.length >>> (24 - 8 * i)) & 0xff)), payload];
  const parts = Object.values(key).flatMap((value) => {
    if (value === null) return part('n', Buffer.alloc(0));
    if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return part('i', Buffer.from(String(value)));
    if (typeof value === 'number') return part('f', Buffer.from(String(value)));
    if (typeof value === 'string') return part('s', Buffer.from(value));
    if (typeof value === 'boolean') return part(value ? 't' : 'F', Buffer.alloc(0));
    return part('b', value);
  });
  return Buffer.concat([Buffer.from([name.length >> 8, name.length & 0xff]), name, ...parts]);
}

test('a RowKeyWriter reused for keys of every kind, short after long and long after short, writes the documented bytes', () => {
  const keys: Array<[string, string, Row]> = [
    ['shop', 'items', { id: 1 }],
    ['shop', 'items', { id: -9007199254740993n, at: 1.5, zero: -0 }],
    ['shop', 'orders', { customer: 'ünïcødé 🙂', line: null }],
    ['shop', 'orders', { customer: 'é'.repeat(700), line: 8 }],
    ['shop', 'blobs', { hash: Buffer.from('00ff10', 'hex'), ok: true, gone: false }],
    ['d'.repeat(300), 'tâble'.repeat(100), { id: 3 }],
    ['shop', 'blobs', { hash: Buffer.alloc(5000, 7) }],
    ['shop', 'items', { id: 42 }],
  ];
  const writer = new RowKeyWriter();
  for (const [db, table, key] of keys) {
    const identity = { ...changeEvent('c', table, 0, null, {}, '0', false), key, source: { ...changeEvent('c', table, 0, null, {}, '0', false).source, db } };
    const expected = documentedBytes(db, table, key);
    const length = writer.write(identity);
    assert.deepEqual(writer.buffer.subarray(0, length), expected, `${db}.${table}`.slice(0, 40));
    assert.deepEqual(encodeRowKey(identity), expected);
  }
});
