import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differingMembers, sameValue } from '../../topology/canonical-equality.ts';
import type { ColumnSchema } from '../../topology/change-event.ts';

const json: ColumnSchema = { name: 'j', type: 'json', nullable: true };
const text: ColumnSchema = { name: 't', type: 'varchar', nullable: true };

test('an integer is one value whether a number or a bigint carries it; beyond 2^53 only the exact bigint matches', () => {
  assert.equal(sameValue(7, 7n, undefined), true);
  assert.equal(sameValue(7n, 7, undefined), true);
  assert.equal(sameValue(9007199254740993n, 9007199254740992, undefined), false);
  assert.equal(sameValue(9007199254740993n, 9007199254740993n, undefined), true);
  assert.equal(sameValue(1.5, 1n, undefined), false);
});

test('NULL, empty and absent are three things; bytes compare by bytes', () => {
  assert.equal(sameValue(null, null, text), true);
  assert.equal(sameValue(null, '', text), false);
  assert.equal(sameValue(null, undefined, text), false);
  assert.equal(sameValue(Buffer.from([0, 255]), Buffer.from([0, 255]), undefined), true);
  assert.equal(sameValue(Buffer.from([0, 255]), Buffer.from([0]), undefined), false);
  assert.equal(sameValue(Buffer.from('ab'), 'ab', undefined), false);
});

test('JSON columns compare by meaning (member order, spaces), other text exactly', () => {
  assert.equal(sameValue('{"b": [1, 2.5], "a": {"ü": null}}', '{"a":{"ü":null},"b":[1,2.5]}', json), true);
  assert.equal(sameValue('{"a": [1, 2]}', '{"a": [2, 1]}', json), false);
  assert.equal(sameValue('{"a": 1}', '{"a": 1, "b": null}', json), false);
  assert.equal(sameValue('{"a": 1}', '{"a":1}', text), false);
  assert.equal(sameValue('not json', 'not json', json), true);
  assert.equal(sameValue('not json', 'not  json', json), false);
});

test('differing members name the top-level members of two JSON objects that differ', () => {
  assert.deepEqual(differingMembers('{"a": 1, "b": {"c": 2}, "d": 3}', '{"d": 3, "b": {"c": 3}, "e": 0, "a": 1}'), ['b', 'e']);
  assert.equal(differingMembers('[1]', '[2]'), undefined);
});
