import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncatedTable } from '../../../connectors/mysql/sql.ts';

test('a TRUNCATE statement names its table, quoted or not, the database defaulting to the statement\'s', () => {
  assert.deepEqual(truncatedTable('TRUNCATE TABLE items', 'shop'), { db: 'shop', table: 'items' });
  assert.deepEqual(truncatedTable('truncate `odd``name`', 'shop'), { db: 'shop', table: 'odd`name' });
  assert.deepEqual(truncatedTable('/* by hand */ TRUNCATE TABLE `other db` . `it.ems`;', 'shop'), { db: 'other db', table: 'it.ems' });
  assert.deepEqual(truncatedTable('TRUNCATE TABLE other.items', 'shop'), { db: 'other', table: 'items' });
  assert.equal(truncatedTable('DROP TABLE items', 'shop'), undefined);
  assert.equal(truncatedTable('ALTER TABLE items TRUNCATE PARTITION p0', 'shop'), undefined);
});
