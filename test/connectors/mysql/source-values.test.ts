import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRowConverter, columnSchema, shortestFloat32 } from '../../../connectors/mysql/column-types.ts';
import { decodeKey, encodeKey } from '../../../connectors/mysql/key-codec.ts';
import { binlogFileIndex, boundaryPosition, changePosition, eventPositionPrefix } from '../../../connectors/mysql/position.ts';
import { keyAfterCondition } from '../../../connectors/mysql/sql.ts';
import { TableFilter } from '../../../connectors/mysql/table-filter.ts';
import type { Row, TableSchema } from '../../../topology/change-event.ts';

test('column definitions parse into the shared ColumnSchema', () => {
  const parse = (columnType: string) => columnSchema({ name: 'c', columnType, nullable: true, charset: null });
  assert.deepEqual(parse('decimal(65,30)'), { name: 'c', type: 'decimal', nullable: true, precision: 65, scale: 30 });
  assert.deepEqual(parse('bigint(20) unsigned'), { name: 'c', type: 'bigint', nullable: true, unsigned: true });
  assert.deepEqual(parse('datetime(6)'), { name: 'c', type: 'datetime', nullable: true, precision: 6 });
  assert.deepEqual(parse('bit(10)'), { name: 'c', type: 'bit', nullable: true, length: 10 });
  assert.deepEqual(parse("ENUM('a,b','It''s')"), { name: 'c', type: 'enum', nullable: true, values: ['a,b', "It's"] });
});

test('BIGINT becomes bigint and FLOAT the shortest decimal of its float32, whichever form the driver gave', () => {
  const schema: TableSchema = {
    db: 'd',
    table: 't',
    columns: [columnSchema({ name: 'b', columnType: 'bigint', nullable: true, charset: null }), columnSchema({ name: 'f', columnType: 'float', nullable: true, charset: null })],
    primaryKey: [],
    uniqueKeys: [],
  };
  const convert = canonicalRowConverter(schema)!;
  const rows: Row[] = [
    { b: '18446744073709551615', f: 0.10000000149011612 },
    { b: 5, f: 0.1 },
    { b: null, f: null },
  ];
  for (const row of rows) convert(row);
  assert.deepEqual(rows, [
    { b: 18446744073709551615n, f: 0.1 },
    { b: 5n, f: 0.1 },
    { b: null, f: null },
  ]);
  assert.equal(shortestFloat32(Math.fround(1.2345678)), 1.2345678);
  assert.equal(canonicalRowConverter({ ...schema, columns: [columnSchema({ name: 'i', columnType: 'int', nullable: true, charset: null })] }), undefined);
});

test('snapshot progress keys round-trip exactly, bigints and bytes included', () => {
  const row: Row = { a: 18446744073709551615n, b: Buffer.from([0, 255]), c: 'x', d: 1.5, e: null };
  const encoded = encodeKey(row, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(encoded, '[{"bigint":"18446744073709551615"},{"base64":"AP8="},"x",1.5,null]');
  assert.deepEqual(decodeKey(encoded), [18446744073709551615n, Buffer.from([0, 255]), 'x', 1.5, null]);
});

test('positions compare as strings in binlog order across files, event positions and ordinals', () => {
  const at = (file: string, pos: number, ordinal: number) => changePosition(eventPositionPrefix(binlogFileIndex(file), pos), ordinal);
  const ordered = [
    at('binlog.000009', 999_999, 12),
    boundaryPosition({ file: 'binlog.000010', pos: 4 }),
    at('binlog.000010', 120, 0),
    at('binlog.000010', 120, 9),
    at('binlog.000010', 120, 10),
    at('binlog.000010', 4_294_967_296, 0),
    at('binlog.1000000', 4, 0),
  ];
  assert.deepEqual([...ordered].sort(), ordered);
  assert.equal(ordered[2], '0000000010.0000000000000120.0000000000');
});

test('include/exclude globs select db.table names; system schemas are never captured', () => {
  const filter = new TableFilter(['shop.*', 'crm.customer?'], ['shop.tmp_*']);
  assert.deepEqual(
    [['shop', 'orders'], ['shop', 'tmp_x'], ['crm', 'customers'], ['crm', 'customer'], ['other', 't']].map(([db, table]) => filter.captures(db!, table!)),
    [true, false, true, false, false],
  );
  assert.equal(new TableFilter().captures('mysql', 'user'), false);
  assert.equal(new TableFilter().captures('app', 'user'), true);
});

test('the keyset condition is a range over composite keys, values as parameters', () => {
  const condition = keyAfterCondition(['a', 'we`ird']);
  assert.equal(condition.sql, '(`a` > ?) OR (`a` = ? AND `we``ird` > ?)');
  assert.deepEqual(condition.parameters([1, 'x']), [1, 1, 'x']);
});
