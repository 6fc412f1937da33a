import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresDialect } from '../../../connectors/postgres/sink.ts';

test('two connections creating one table at once is retried; a unique violation of the data is not', () => {
  const { isTransient } = postgresDialect('public');
  // What the loser of two concurrent CREATE TABLE IF NOT EXISTS meets (seen with four partition workers).
  assert.equal(isTransient(Object.assign(new Error('duplicate key value violates unique constraint "pg_type_typname_nsp_index"'), { code: '23505', constraint: 'pg_type_typname_nsp_index' })), true);
  assert.equal(isTransient(Object.assign(new Error('relation "t" already exists'), { code: '42P07' })), true);
  // The loser of two concurrent CREATE TABLE IF NOT EXISTS, retried after the winner committed, met in a test run.
  assert.equal(isTransient(Object.assign(new Error('type "__cdc_sink_truncates" already exists'), { code: '42710' })), true);
  assert.equal(isTransient(Object.assign(new Error('duplicate key value violates unique constraint "t_name_key"'), { code: '23505', constraint: 't_name_key' })), false);
  assert.equal(isTransient(Object.assign(new Error('value too long for type character varying(8)'), { code: '22001' })), false);
  assert.equal(isTransient(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
});
